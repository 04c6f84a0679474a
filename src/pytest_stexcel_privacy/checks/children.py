"""Children Under Thirteen: clause ``children``.

The module's clock is the suite's to set, for the sign-up or correction being
judged and nothing else: at a chosen moment in the module's own time zone,
through the adapter's ``set_today`` or else under time-machine
(:mod:`.module_clock`), so the module keeps calling ``date.today()`` or
``datetime.now(zone)`` as it always does. The edges around midnight stop the
clock at their exact instant.
The oracle (:mod:`pytest_stexcel_privacy.people.ages`) says what it should decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from ..contract.adapter import RegistrationRejected
from ..contract.profile import AdapterProfile
from ..errors import CheckInconclusive
from ..findings.evidence import MAIL, Evidence
from ..findings.masking import mask
from ..findings.outcomes import PrivacyViolation
from ..harness.holder import PrivacyHarness
from ..harness.properties import run_property
from ..observe.mail_sink import MailMessage, MailSink
from ..people.ages import AgeCase, verdict
from ..people.persons import Person, assemble
from ..people.strategies import age_cases
from ..scan.matcher import NeedleMatcher
from .mail_rules import MAIL_TO_REFUSED_CHILD
from .module_clock import ModuleClock, module_clock
from .registry import privacy_check
from .retention_rules import covers_location, sound_retentions
from .us_storage import declared_hosts, destination_residency, event_evidence, leaves_machine

EXAMPLE_DAY = date(2026, 6, 15)  # a fixed sign-up day for the edge cases every run checks


@dataclass(frozen=True)
class Attempt:
    person: Person
    case: AgeCase
    account: Any = None
    refusal: str = ""

    @property
    def accepted(self) -> bool:
        return not self.refusal


def edge_cases(profile: AdapterProfile) -> list[AgeCase]:
    """The edges every run checks, whatever the search draws."""
    zone = ZoneInfo(profile.time_zone)

    def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute, second), tzinfo=zone)

    day = EXAMPLE_DAY
    turns_13_today = day.replace(year=day.year - 13)
    return [
        AgeCase(turns_13_today, at(day, 0, 0, 0)),  # the 13th birthday, just after midnight
        AgeCase(turns_13_today, at(date(2026, 6, 14), 23, 59, 59)),  # a second before it
        AgeCase(date(2013, 6, 16), at(day)),  # 13 tomorrow
        AgeCase(date(2012, 2, 29), at(date(2025, 2, 28))),  # leap-day birth, non-leap year
        AgeCase(date(2012, 2, 29), at(date(2025, 3, 1), 0, 0, 0)),
        AgeCase(date(2027, 1, 1), at(day)),  # born in the future
        AgeCase(None, at(day)),  # no birth date asked
        AgeCase(date(1990, 1, 1), at(day)),  # an ordinary adult
    ]


def child_edge_cases(profile: AdapterProfile) -> list[AgeCase]:
    return [
        c
        for c in edge_cases(profile)
        if verdict(c.born, c.day, profile.leap_day_birthday) == "refuse"
    ]


def applicant(case: AgeCase) -> Person:
    return assemble(given="Casey", family="Young", birth_date=case.born)


def attempt(harness: PrivacyHarness, clock: ModuleClock, case: AgeCase) -> Attempt:
    """Try to sign a fresh person up at the case's exact moment on the module's clock."""
    person = applicant(case)
    with clock.at(case.moment, exact=True):
        try:
            account = harness.adapter.call_within(harness.settings.call_timeout, "register", person)
        except RegistrationRejected as exc:
            return Attempt(person, case, refusal=str(exc) or "refused")
    return Attempt(person, case, account=account)


def prove_sign_ups_are_visible(
    harness: PrivacyHarness, clock: ModuleClock, profile: AdapterProfile
) -> None:
    """Positive control: an adult signed up the same way is found in the stores.

    Finding nothing of a refused child proves something only if the scan would
    have found them had they been kept.
    """
    zone = ZoneInfo(profile.time_zone)
    adult = AgeCase(date(1990, 1, 1), datetime.combine(EXAMPLE_DAY, time(12), tzinfo=zone))
    outcome = attempt(harness, clock, adult)
    if not outcome.accepted:
        raise CheckInconclusive(
            f"{harness.adapter.name}.register() refused an adult ({adult.describe()}): "
            f"{outcome.refusal}; the check needs an adult's sign-up to prove it can see one"
        )
    if not harness.scanner.scan([outcome.person]):
        raise CheckInconclusive(
            f"after {harness.adapter.name}.register() of an adult, no declared store holds "
            "any trace of them, so finding nothing of a refused child would prove nothing. "
            f"Stores scanned: {', '.join(s.name for s in harness.scanner.stores)}. Does "
            "stores() list every place the module writes to?"
        )


@dataclass(frozen=True)
class Marks:
    """Where each observer stood before a sign-up attempt: what came after is its doing."""

    providers: int
    mail: int
    egress: int

    @classmethod
    def now(cls, harness: PrivacyHarness, sink: MailSink) -> Marks:
        guard = harness.egress
        return cls(harness.processor_sink.mark(), sink.mark(), guard.mark() if guard else 0)


def traces(harness: PrivacyHarness, sink: MailSink, person: Person, marks: Marks) -> list[Evidence]:
    """Every place the person's data reached: the stores, and since ``marks`` the
    providers, the mail and the connections the egress guard recorded."""
    found: list[Evidence] = [hit.evidence() for hit in harness.scanner.scan([person])]
    found.extend(sent_since(harness, person, marks.providers))
    settled = sink.settle(marks.mail, quiet=harness.settings.mail_settle)
    found.extend(e for e in (mail_trace(m, person, "register()") for m in settled) if e)
    found.extend(connected_since(harness, person, marks.egress))
    return found


def sent_since(harness: PrivacyHarness, person: Person, mark: int) -> list[Evidence]:
    matcher = NeedleMatcher(person.needles)
    carried = (r.evidence(matcher) for r in harness.processor_sink.since(mark))
    return [e for e in carried if e is not None]


def mail_trace(
    message: MailMessage, person: Person, step: str, matcher: NeedleMatcher | None = None
) -> Evidence | None:
    """Evidence that ``message`` reached a refused person's address or carries their
    values (a welcome mail sent before the age check), else None. ``matcher``: the
    person's needles, built once by a caller that reads many messages."""
    if person.email.strip().lower() in message.recipients:
        how = "to the refused address"
    else:
        needle = (matcher or NeedleMatcher(person.needles)).strongest(
            message.raw + b"\n" + message.text.encode("utf-8", "surrogateescape")
        )
        if needle is None:
            return None
        how = f"carrying {needle.field} as {needle.form} {mask(needle.text)!r}"
    return Evidence(
        text=f"mail: {message.describe()}, {how}",
        store=MAIL,
        location=MAIL_TO_REFUSED_CHILD,
        locator="refused child",
        step=step,
    )


def connected_since(harness: PrivacyHarness, person: Person, mark: int) -> list[Evidence]:
    """Connections the egress guard recorded since ``mark`` that carried the person's
    values, wherever they were going (the guard refused them; trying was the leak)."""
    guard = harness.egress
    if guard is None:
        return []
    guard.settle(harness.adapter.profile.allowed_subprocesses)
    events = [e for e in guard.since(mark) if leaves_machine(e)]
    if not events:
        return []
    matcher, declared = NeedleMatcher(person.needles), declared_hosts(harness)
    found = (event_evidence(e, destination_residency(e, declared), matcher) for e in events)
    return [e for e in found if e.field]


def child_cases(profile: AdapterProfile, *, with_none: bool = True) -> st.SearchStrategy[AgeCase]:
    """Sign-ups the module must refuse; without a birth date only if ``with_none``."""
    return age_cases(profile.time_zone).filter(
        lambda c: (
            verdict(c.born, c.day, profile.leap_day_birthday) == "refuse"
            and (with_none or c.born is not None)
        )
    )


def corrections(profile: AdapterProfile) -> st.SearchStrategy[AgeCase]:
    """Birth dates an account's may be corrected to that make its holder a child: none at
    all only where the module lets a birth date be missing."""
    return child_cases(profile, with_none=not profile.birth_date_required)


def wrongly_accepted(case: AgeCase, profile: AdapterProfile) -> str:
    """What the module did wrong by accepting ``case``, a sign-up it must refuse."""
    if case.born is None and profile.birth_date_required:
        return (
            "signed up someone who gave no birth date, although the adapter declares "
            "birth_date_required = True"
        )
    return "signed up a child under 13"


class ChildrenChecks:
    """Checks for the policy's "Children Under Thirteen" section."""

    @privacy_check("children", needs=("register", "stores"))
    def test_age_gate_is_exact(self, privacy_harness: PrivacyHarness) -> None:
        """Sign-up is refused exactly when the person is under 13 (or gives no birth date)
        on the module's calendar date, edges included."""
        __tracebackhide__ = True
        harness = privacy_harness
        profile = harness.adapter.profile

        def body(case: AgeCase) -> None:
            __tracebackhide__ = True
            outcome = attempt(harness, clock, case)
            expected = verdict(case.born, case.day, profile.leap_day_birthday)
            what = case.describe(profile.leap_day_birthday)
            if expected == "refuse" and outcome.accepted:
                raise PrivacyViolation("children", wrongly_accepted(case, profile), [what])
            if expected == "accept" and not outcome.accepted:
                raise PrivacyViolation(
                    "children",
                    "refused someone aged 13 or over: adults must be able to sign up",
                    [f"{what}; refusal: {outcome.refusal}"],
                )

        with module_clock(harness) as clock:
            run_property(harness, age_cases(profile.time_zone), body, edge_cases(profile))

    @privacy_check("children", needs=("register", "stores"))
    def test_refused_child_leaves_no_trace(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """After refusing a child, no store and no provider holds anything of theirs (no
        row, log line, audit entry, cache entry or queued welcome e-mail), no message
        reached their address or carried their data, and no connection carried it."""
        __tracebackhide__ = True
        harness = privacy_harness
        profile = harness.adapter.profile

        def body(case: AgeCase) -> None:
            __tracebackhide__ = True
            marks = Marks.now(harness, mail_sink)
            outcome = attempt(harness, clock, case)
            what = case.describe(profile.leap_day_birthday)
            if outcome.accepted:
                summary = f"{wrongly_accepted(case, profile)}, keeping their data"
                raise PrivacyViolation("children", summary, [what])
            left = traces(harness, mail_sink, outcome.person, marks)
            if left:
                raise PrivacyViolation(
                    "children",
                    f"refused a child ({what}) but kept {len(left)} trace(s) of them",
                    left,
                )

        with module_clock(harness) as clock:
            prove_sign_ups_are_visible(harness, clock, profile)
            run_property(harness, child_cases(profile), body, child_edge_cases(profile))

    @privacy_check("children", needs=("register", "stores", "update_birth_date"))
    def test_child_learned_later_stops_processing(self, privacy_harness: PrivacyHarness) -> None:
        """When an account's birth date is corrected to under 13 (or removed, unless the
        module requires one), the module deletes the account or stops processing it, as
        the adapter declares."""
        __tracebackhide__ = True
        harness = privacy_harness
        profile = harness.adapter.profile
        retentions, _ = sound_retentions(harness)  # unsound ones are deletion-exceptions' finding

        def body(case: AgeCase) -> None:
            __tracebackhide__ = True
            adult = AgeCase(case.day.replace(year=case.day.year - 30, day=1), case.moment)
            outcome = attempt(harness, clock, adult)
            if not outcome.accepted:
                raise CheckInconclusive(
                    f"{harness.adapter.name}.register() refused an adult ({adult.describe()}): "
                    f"{outcome.refusal}; the check needs an account to correct"
                )
            person = outcome.person
            before = harness.scanner.scan([person])
            mark = harness.processor_sink.mark()
            what = case.describe(profile.leap_day_birthday)
            with clock.at(case.moment, exact=True):
                harness.adapter.call_within(
                    harness.settings.call_timeout, "update_birth_date", outcome.account, case.born
                )
            if profile.underage_handling == "block":
                # whatever the module judges by date (the holder's age) is judged on that day
                adapter = harness.adapter
                for method, args in (
                    ("send_marketing", ()),
                    ("send_transactional", (outcome.account,)),
                ):
                    if adapter.implements(method):
                        with clock.on(case.day):
                            adapter.call_within(harness.settings.call_timeout, method, *args)
            after = harness.scanner.scan([person])
            if profile.underage_handling == "delete":
                kept = [
                    hit.evidence()
                    for hit in after
                    if not any(covers_location(r, hit) for r in retentions)
                ]
                if kept:
                    raise PrivacyViolation(
                        "children",
                        f"learned the holder is a child ({what}) but kept {len(kept)} trace(s) "
                        "although the adapter declares underage_handling = 'delete'",
                        kept,
                    )
                return
            grown = _growth(before, after)
            sent = sent_since(harness, person, mark)
            if grown or sent:
                raise PrivacyViolation(
                    "children",
                    f"kept processing a blocked child's account ({what})",
                    grown + sent,
                )

        with module_clock(harness) as clock:
            run_property(harness, corrections(profile), body, child_edge_cases(profile)[:1])


def _growth(before: Any, after: Any) -> list[Evidence]:
    """Hits found after that were not there before: new rows, lines, messages.

    The engine's own structures are left out: a full-text index or statistics table
    rewrites its pages whenever anyone's data changes, so a hit there in a new page is
    no new processing of the blocked account.
    """
    seen = {(h.store, h.location, h.locator, h.field) for h in before}
    return [
        h.evidence("new since the account was blocked")
        for h in after
        if not h.engine_internal and (h.store, h.location, h.locator, h.field) not in seen
    ]
