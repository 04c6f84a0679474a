"""California Privacy Rights: clause ``shine-the-light`` (Civil Code § 1798.83).

A customer may ask which third parties received their personal data for
direct marketing in the preceding calendar year. The check lives two years of
a fresh module on its own calendar (``module_clock``) and compares the module's
answer with what the suite saw:

* year Y: people sign up and a campaign runs (``send_marketing()``);
* early in Y+1, asked for Y, the list must name every *observed recipient*
  and nobody else;
* early in Y+2, asked for Y+1 (a year with no campaign), it must name nobody.

An observed recipient is a party that received a request carrying a value of
a person the check signed up while ``send_marketing()`` ran: a declared
processor (the request reached the processor sink under its ``url``; named
by its ``Processor.name``), a path of the processor sink no processor declares
(named by its first segment, as ``processor_sink.url_for(name)`` builds it),
or a host outside the machine the egress guard recorded (named by the host,
or by the processor whose ``url`` is on it). Names compare case-insensitively,
surrounding spaces ignored.

With ``disclosure_requests_limited`` the module answers a customer once per
calendar year: the same customer's second request in Y+1 must raise
``RequestRefused``, another customer's must still be answered, and the first
customer is answered again in Y+2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from ..contract.adapter import Processor, RequestRefused
from ..errors import AdapterCallError, AdapterContractError, CheckInconclusive
from ..findings.evidence import Evidence
from ..findings.outcomes import PrivacyViolation
from ..harness.holder import PrivacyHarness
from ..observe.mail_sink import MailSink
from ..observe.residency import host_of
from ..scan.matcher import NeedleMatcher
from .module_clock import ModuleClock, module_clock
from .people_model import Member
from .registry import privacy_check
from .script import Script
from .us_storage import declared_hosts, destination_residency, event_evidence, leaves_machine

ASK = "third_parties_disclosed_for_direct_marketing"
# The promises, as the ``location`` of their evidence (see Evidence.key).
LIST_OMITS_RECIPIENT = "disclosure-list-omits-recipient"
LIST_NAMES_NON_RECIPIENT = "disclosure-list-names-non-recipient"
ANSWERED_TWICE = "disclosure-request-answered-twice-in-a-year"
REFUSED_FIRST_REQUEST = "disclosure-request-refused"
DISCLOSURES = "disclosures"


def party(name: str) -> str:
    """A party's name as lists are compared: trimmed, case folded."""
    return name.strip().casefold()


def recipient_of(url: str, processors: Sequence[Processor]) -> Processor | None:
    """The declared processor whose ``url`` the address is under (the longest match)."""
    under = [
        p
        for p in processors
        if url == p.url.rstrip("/")
        or url.startswith(p.url.rstrip("/") + "/")
        or url.startswith(p.url.rstrip("/") + "?")
    ]
    return max(under, key=lambda p: len(p.url), default=None)


@dataclass(frozen=True)
class Recipient:
    name: str
    evidence: Evidence


def marketing_recipients(
    harness: PrivacyHarness, matcher: NeedleMatcher, provider_mark: int, egress_mark: int
) -> dict[str, Recipient]:
    """Every party that received a person's value since the marks, by ``party`` name."""
    processors = harness.adapter.processors()
    sink = harness.processor_sink
    found: dict[str, Recipient] = {}
    for request in sink.since(provider_mark):
        evidence = request.evidence(matcher)
        if evidence is None:
            continue
        url = sink.url + request.path
        declared = recipient_of(url, processors)
        name = declared.name if declared else urlsplit(url).path.strip("/").split("/")[0]
        found.setdefault(party(name), Recipient(name, evidence))
    guard = harness.egress
    if guard is not None:
        guard.settle(harness.adapter.profile.allowed_subprocesses)
        hosts = declared_hosts(harness)
        for event in guard.since(egress_mark):
            if not leaves_machine(event):
                continue
            item = event_evidence(event, destination_residency(event, hosts), matcher)
            if not item.field:
                continue  # it carried nobody's value
            owner = next((p for p in processors if host_of(p.url) == event.host), None)
            name = owner.name if owner else event.host
            found.setdefault(party(name), Recipient(name, item))
    return found


class _Years(Script):
    """The script, on the module's calendar, with what its answers broke."""

    def __init__(self, harness: PrivacyHarness, sink: MailSink, clock: ModuleClock) -> None:
        super().__init__(harness, sink)
        self.clock = clock
        self.limited = harness.adapter.profile.disclosure_requests_limited
        self.evidence: list[Evidence] = []
        self.summaries: list[str] = []

    def campaign(self, day: date) -> dict[str, Recipient]:
        """Run ``send_marketing()`` on ``day``: who received a person's data."""
        guard = self.harness.egress
        provider_mark = self.harness.processor_sink.mark()
        egress_mark = guard.mark() if guard else 0
        mail_mark = self.sink.mark()
        with self.clock.on(day):
            self.call(f"send_marketing() on {day}", "send_marketing")
        mail = self.sink.settle(mail_mark, quiet=self.harness.settings.mail_settle)
        matcher = NeedleMatcher(n for m in self.members for n in m.person.needles)
        found = marketing_recipients(self.harness, matcher, provider_mark, egress_mark)
        if not found and not any(m.receives(x) for m in self.members for x in mail):
            raise CheckInconclusive(
                f"{self.adapter.name}.send_marketing() on {day} sent no e-mail and no request "
                "the suite saw to anyone it signed up, so an empty disclosure list could not be "
                "told from a blind spot. Does the module send to the mail_sink and call its "
                "partners at processor_sink.url_for(...)?"
            )
        return found

    def ask(self, year: int, day: date, member: Member) -> list[str] | None:
        """The module's list for ``year``, asked on ``day`` (by ``member`` when the module
        limits requests); None when it refused."""
        args: tuple[Any, ...] = (year, member.account) if self.limited else (year,)
        who = f", {member.label}" if self.limited else ""
        try:
            with self.clock.on(day):
                answer = self.call(f"{ASK}({year}{who}) on {day}", ASK, *args)
        except AdapterCallError as exc:
            if self.limited and isinstance(exc.__cause__, RequestRefused):
                self.steps[-1] += " refused"
                return None
            raise
        if isinstance(answer, (str, bytes)) or not isinstance(answer, (list, tuple)):
            raise AdapterContractError(
                f"{self.adapter.name}.{ASK}({year}) returned {type(answer).__name__}; it must "
                "return a list of the third parties' names (str)"
            )
        for name in answer:
            if not isinstance(name, str):
                raise AdapterContractError(
                    f"{self.adapter.name}.{ASK}({year}) returned {name!r:.60} in its list; "
                    "each item must be a third party's name (str)"
                )
        return list(answer)

    def judge(self, year: int, answer: list[str], observed: dict[str, Recipient]) -> None:
        named = {party(n): n for n in answer if n.strip()}
        for key, recipient in observed.items():
            if key not in named:
                self.summaries.append(f"the list for {year} omits {recipient.name}")
                self.evidence.append(
                    Evidence(
                        f"{recipient.name} received a person's data for direct marketing in "
                        f"{year}, yet the module's list for {year} is {answer!r}: "
                        f"{recipient.evidence.text}",
                        store=DISCLOSURES,
                        location=LIST_OMITS_RECIPIENT,
                        locator=recipient.name,
                        field=recipient.evidence.field,
                        form=recipient.evidence.form,
                        value=recipient.evidence.value,
                        step=ASK,
                    )
                )
        extra = [name for key, name in named.items() if key not in observed]
        if extra and self.harness.egress is None:
            raise CheckInconclusive(
                f"the list for {year} names {', '.join(extra)}, which the suite did not see "
                "receive anything; without the egress guard it cannot see parties outside the "
                "processor sink"
            )
        seen = ", ".join(r.name for r in observed.values()) or "nobody"
        for name in extra:
            self.summaries.append(f"the list for {year} names {name!r}, which received nothing")
            self.evidence.append(
                Evidence(
                    f"the module's list for {year} names {name!r}, which the suite saw receive "
                    f"no person's data for direct marketing in {year} (it saw: {seen})",
                    store=DISCLOSURES,
                    location=LIST_NAMES_NON_RECIPIENT,
                    locator=name,
                    step=ASK,
                )
            )

    def refused(self, summary: str, rule: str, member: Member) -> None:
        self.summaries.append(summary)
        self.evidence.append(
            Evidence(
                f"{summary} ({'; '.join(self.steps[-3:])})",
                store=DISCLOSURES,
                location=rule,
                locator=member.label,
                step=ASK,
            )
        )


class ShineTheLightChecks:
    """Checks for the policy's "California Privacy Rights" section."""

    @privacy_check(
        "shine-the-light",
        needs=("register", "opt_out", "send_marketing", ASK),
    )
    def test_disclosure_list_names_the_marketing_recipients(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """Asked early in a year for the year before, the module names every third party
        the suite saw receive a person's data while a campaign ran that year, and nobody
        else; for a year without campaigns, nobody (and, when it declares
        disclosure_requests_limited, it answers each customer once per calendar year)."""
        __tracebackhide__ = True
        harness = privacy_harness
        with module_clock(harness) as clock:
            years = _Years(harness, mail_sink, clock)
            year = clock.real_today().year - 3
            with clock.on(date(year, 3, 15)):
                first, second = years.join(date(year - 40, 1, 1)), years.join(date(year - 35, 1, 1))
                opted_out = years.join(date(year - 30, 1, 1))
                years.call(f"opt_out({opted_out.label})", "opt_out", opted_out.account)
                if not harness.adapter.profile.marketing_by_default and harness.adapter.implements(
                    "opt_in"
                ):
                    for member in (first, second):
                        years.call(f"opt_in({member.label})", "opt_in", member.account)
            observed = years.campaign(date(year, 6, 1))
            _answer_for(years, year, date(year + 1, 2, 1), observed, first, second)
            _answer_for(years, year + 1, date(year + 2, 2, 1), {}, first, second)
        if years.evidence:
            more = f" (and {len(years.summaries) - 1} more)" if len(years.summaries) > 1 else ""
            harness.acceptance.enforce(
                PrivacyViolation(
                    "shine-the-light",
                    years.summaries[0] + more,
                    years.evidence,
                    years.example(),
                )
            )


def _answer_for(
    years: _Years,
    year: int,
    day: date,
    observed: dict[str, Recipient],
    first: Member,
    second: Member,
) -> None:
    """Ask for ``year`` on ``day`` and judge the answer; a module limiting requests is
    asked again by the same customer (refused) and by another (answered)."""
    answer = years.ask(year, day, first)
    if answer is None:
        years.refused(
            f"{first.label}'s first request in {day.year} was refused",
            REFUSED_FIRST_REQUEST,
            first,
        )
        return
    years.judge(year, answer, observed)
    if not years.limited:
        return
    if years.ask(year, day, first) is not None:
        years.refused(
            f"{first.label}'s second request in {day.year} was answered, though the adapter "
            "declares disclosure_requests_limited",
            ANSWERED_TWICE,
            first,
        )
    if years.ask(year, day, second) is None:
        years.refused(
            f"{second.label}'s first request in {day.year} was refused",
            REFUSED_FIRST_REQUEST,
            second,
        )
