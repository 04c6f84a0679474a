"""Sharing Information with Third Parties: clause ``third-party-sharing``.

Three people sign up and build a history, one of them lives a whole life
(``life.py``: purchases, mail, profile and e-mail changes ...), and is deleted.
Everything the module sent meanwhile is judged: each request the provider sink
recorded against the processor it went to (``sharing_rules.py``), and each
connection the egress guard recorded that carried a person's value against
the hosts the adapter declares.
"""

from __future__ import annotations

from typing import Any

from ..contract.adapter import RegistrationRejected
from ..errors import CheckInconclusive
from ..findings.evidence import NETWORK, Evidence
from ..findings.outcomes import PrivacyViolation
from ..harness.holder import PrivacyHarness
from ..observe.egress import EgressEvent, blind_spots
from ..observe.mail_sink import MailSink
from ..people.persons import Person, assemble
from ..scan.matcher import NeedleMatcher
from .history import history_kinds
from .life import FULL_LIFE, life_steps, live
from .registry import privacy_check
from .sharing_rules import carried, observable_processors, recipient, sharing_problems
from .us_storage import declared_hosts, leaves_machine

CLAUSE = "third-party-sharing"


class ThirdPartySharingChecks:
    """Checks for the policy's "Sharing Information with Third Parties" section."""

    @privacy_check(CLAUSE, needs=("register", "delete", "stores", "processors"))
    def test_data_reaches_only_declared_processors(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """While three people sign up, build a history and one lives a life and is deleted,
        each request to a provider goes to a declared processor and carries only the
        fields its purpose needs (deletion requests: any that identify the person), none
        carries three or more people's data unless that processor is declared bulk, and no
        connection carries a person's value to a host the adapter does not declare."""
        __tracebackhide__ = True
        harness = privacy_harness
        processors = observable_processors(harness)
        guard = harness.egress
        if guard is None:
            raise CheckInconclusive("the egress guard is not running; cannot see connections")
        sink = harness.processor_sink
        people = [
            assemble(given="Zoë", family="O'Brien-Smith", plus_tag="orders"),
            assemble(given="John", family="Stander"),
            assemble(given="Mary", family="Third"),
        ]
        mark, egress_mark = sink.mark(), guard.mark()
        versions, deleting = _run(harness, mail_sink, people)
        guard.settle(harness.adapter.profile.allowed_subprocesses)
        matcher = NeedleMatcher(n for p in [*people, *versions] for n in p.needles)
        requests = sink.since(mark)
        problems: list[str | Evidence] = []
        reached = False
        for request in requests:
            processor = recipient(request, processors, sink.url)
            harness.statistics.record_checked("provider request")
            if processor is not None and carried(request, matcher):
                reached = True
            problems.extend(
                sharing_problems(request, processor, matcher, deleting=request.index in deleting)
            )
        events = guard.since(egress_mark)
        problems.extend(_undeclared_hosts(harness, events, matcher))
        if problems:
            raise PrivacyViolation(CLAUSE, _summary(problems), _unique(problems))
        spots = blind_spots(events, harness.adapter.profile.allowed_subprocesses)
        if spots:
            raise CheckInconclusive(
                "the egress guard could not see everything the module did, so personal data "
                "may have reached an undeclared party unseen: " + "; ".join(spots)
            )
        if not reached:
            raise CheckInconclusive(
                f"no declared processor ({', '.join(p.name for p in processors)}) received "
                f"any person's data while {harness.adapter.name} signed three people up, "
                "lived the first one's life and deleted them, so the suite cannot show it "
                "would see what reaches one. Is the module pointed at "
                "processor_sink.url_for(...)?"
            )
        harness.statistics.fixed_examples += 1


def _run(
    harness: PrivacyHarness, sink: MailSink, people: list[Person]
) -> tuple[list[Person], range]:
    """Sign everyone up, give each every kind of history, live the first one's life and
    delete them; return the profiles they had since, and the indices of the requests
    recorded while ``delete()`` ran."""
    adapter = harness.adapter

    def call(method: str, *args: Any) -> Any:
        return adapter.call_within(harness.settings.call_timeout, method, *args)

    accounts = []
    for person in people:
        try:
            accounts.append(call("register", person))
        except RegistrationRejected as exc:
            raise CheckInconclusive(
                f"{adapter.name}.register() refused an adult born {person.birth_date} ({exc})"
            ) from exc
    for kind in history_kinds(harness):
        for account, person in zip(accounts, people, strict=True):
            if kind == "purchase":
                call("purchase", account, person.card)
            else:
                call("add_history", account, kind, person)
    steps = set(life_steps(harness))
    life = live(harness, sink, people[0], accounts[0], tuple(s for s in FULL_LIFE if s in steps))
    start = harness.processor_sink.mark()
    for account in life.accounts:
        call("delete", account)
    return life.versions[1:], range(start, harness.processor_sink.mark())


def _undeclared_hosts(
    harness: PrivacyHarness, events: list[EgressEvent], matcher: NeedleMatcher
) -> list[Evidence]:
    """A connection out of this machine that carried a person's value to a host no
    processor or store declares."""
    declared = declared_hosts(harness)
    found: list[Evidence] = []
    for event in events:
        if not leaves_machine(event) or event.host in declared:
            continue
        needle = matcher.strongest(event.host.encode() + b"\n" + event.payload)
        if needle is None:
            continue
        found.append(
            Evidence(
                f"a person's {needle.field} sent to {event.describe()}, a host no declared "
                f"processor or store names, as {needle.form}",
                store=NETWORK,
                location=event.host,
                field=needle.field,
                form=needle.form,
            )
        )
    return found


def _summary(problems: list[str | Evidence]) -> str:
    texts = [p.text if isinstance(p, Evidence) else p for p in problems]
    if any("no declared processor" in t for t in texts):
        return "personal data reached a party no processor declares"
    if any("not declared for bulk work" in t for t in texts):
        return "many people's data sent in one request to a processor not declared for bulk"
    return "a processor received personal data its purpose does not need"


def _unique(problems: list[str | Evidence]) -> list[str | Evidence]:
    """One line per distinct finding (a processor receiving the same field on every
    sign-up is one finding)."""
    seen: dict[str, str | Evidence] = {}
    for problem in problems:
        key = problem.key if isinstance(problem, Evidence) else problem
        seen.setdefault(key, problem)
    return list(seen.values())
