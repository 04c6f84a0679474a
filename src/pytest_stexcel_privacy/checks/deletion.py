"""Right to Deletion: clauses ``deletion``, ``deletion-processors``, ``deletion-exceptions``.

One scenario drives all three: a few persons sign up and build a history
(orders, notes, exports ... whatever the adapter offers), the subject lives a
life (purchases, mail, opt-outs, profile and e-mail changes, a re-import: see
``life.py``), every store is scanned, the subject is deleted, every store is
scanned again. Each clause then judges a different part of what changed; the
``deletion`` clause also lets the subject's e-mail address come back (a sign-up
or an import again) and requires that nothing of the deleted person returns with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from ..contract.adapter import Processor, RegistrationRejected, Retention
from ..errors import CheckInconclusive, RequestUnreadable
from ..findings.evidence import Evidence
from ..findings.masking import mask
from ..findings.outcomes import NotApplicable, PrivacyViolation
from ..harness.holder import PrivacyHarness
from ..harness.properties import run_property
from ..observe.mail_sink import MailSink
from ..observe.processor_sink import RecordedRequest
from ..people.persons import Person, assemble
from ..people.strategies import persons
from ..scan import Hit, Residue
from ..scan.matcher import NeedleMatcher
from .clearing import clear_out
from .history import history_kinds
from .life import FULL_LIFE, Life, come_back, comebacks, life_steps, live, resurrected
from .registry import privacy_check
from .retention_rules import covers_location, describe_retention, sound_retentions
from .sharing_rules import addressed_to, observable_processors

SUBJECT = 0  # index of the person who asks for deletion; the others are bystanders


@dataclass(frozen=True)
class DeletionScenario:
    people: tuple[Person, ...]
    history: tuple[tuple[int, str], ...]  # (index into people, history kind)
    life: tuple[str, ...] = ()  # the subject's steps before delete() (life.py)
    comeback: str | None = None  # after it, their e-mail signs up ("register") or is imported

    @property
    def subject(self) -> Person:
        return self.people[SUBJECT]

    def __repr__(self) -> str:
        steps = ", ".join(f"{_who(i)}:{kind}" for i, kind in self.history)
        life = f", life=[{', '.join(self.life)}]" if self.life else ""
        comeback = f", then {self.comeback}() again" if self.comeback else ""
        return (
            f"DeletionScenario(bystanders={len(self.people) - 1}, history=[{steps}]{life}"
            f"{comeback})"
        )


def _who(index: int) -> str:
    return "subject" if index == SUBJECT else f"bystander{index}"


@st.composite
def deletion_scenarios(
    draw: Any, kinds: Sequence[str], steps: Sequence[str] = (), returns: Sequence[str] = ()
) -> DeletionScenario:
    people = tuple(draw(st.lists(persons(), min_size=2, max_size=4)))
    history: tuple[tuple[int, str], ...] = ()
    if kinds:
        step = st.tuples(st.integers(0, len(people) - 1), st.sampled_from(tuple(kinds)))
        history = tuple(draw(st.lists(step, max_size=8)))
    life: tuple[str, ...] = ()
    if steps:  # a few steps of a life: the fixed scenario lives all of them
        life = tuple(draw(st.lists(st.sampled_from(tuple(steps)), max_size=4)))
    comeback = draw(st.none() | st.sampled_from(tuple(returns))) if returns else None
    return DeletionScenario(people, history, life, comeback)


def full_history(
    kinds: Sequence[str], steps: Sequence[str] = (), returns: Sequence[str] = ()
) -> DeletionScenario:
    """The subject and one bystander, each with one of every kind of history; the subject
    then lives every step of a life the adapter can drive, and after the deletion their
    e-mail address signs up again (or, without ``register`` again, is imported).

    The subject has every trait modules are known to get wrong (an apostrophe
    and a hyphen in the surname, a non-ASCII given name, a plus-addressed
    e-mail, a long street), so those are checked on every run, not only when
    the search happens to draw them.
    """
    people = (
        assemble(
            given="Zoë",
            family="O'Brien-Smith",
            plus_tag="orders",
            secondary="Unit 7, Building C, Floor 3, Rear Gate, Industrial Park North",
        ),
        assemble(given="John", family="Stander"),
    )
    history = tuple((index, kind) for kind in kinds for index in range(len(people)))
    life = tuple(step for step in FULL_LIFE if step in steps)
    return DeletionScenario(people, history, life, returns[0] if returns else None)


def scenarios(harness: PrivacyHarness) -> tuple[Any, list[DeletionScenario]]:
    """The strategy of deletion scenarios for this adapter, and its fixed floor."""
    kinds, steps, returns = history_kinds(harness), life_steps(harness), comebacks(harness)
    return deletion_scenarios(kinds, steps, returns), [full_history(kinds, steps, returns)]


@dataclass
class DeletionRun:
    scenario: DeletionScenario
    before: Residue
    after: Residue
    processor_mark: int
    life: Life | None = None
    bystanders: Sequence[Any] = ()  # their accounts, alive

    @property
    def survivors(self) -> list[Hit]:
        return self.after.of(self.scenario.subject.canary)

    def lost_bystander_data(self) -> list[str]:
        """Places that held a bystander's value before the deletion and hold it nowhere after.

        A place is a logical location (store, table.column / file / key) with the
        field and its form: the value may have moved between rows, lines or
        pages, and any number of copies counts as present. The engine's own
        structures (full-text index pages, statistics, journals) are never
        judged here: the engine rearranges them at will.
        """

        def present(residue: Residue) -> set[tuple[str, str, str, str, str]]:
            return {
                (h.store, h.location, h.person, h.field, h.needle.form)
                for h in residue
                if h.person != self.scenario.subject.canary and not h.engine_internal
            }

        names = {p.canary: _who(i) for i, p in enumerate(self.scenario.people)}
        return [
            f"{store} {location}: {names[person]}'s {field} ({form}) was there before the "
            "deletion and is gone after it"
            for store, location, person, field, form in sorted(
                present(self.before) - present(self.after)
            )
        ]


@contextmanager
def deletion_run(
    harness: PrivacyHarness, scenario: DeletionScenario, sink: MailSink | None = None
) -> Iterator[DeletionRun]:
    """``run_deletion``, its bystanders deleted once the body judged it (``clearing.py``):
    after a verdict, not after an error, which would only wait on a broken module again."""
    run = run_deletion(harness, scenario, sink)
    try:
        yield run
    except PrivacyViolation:
        clear_out(harness, run.bystanders, bounded_calls(harness))
        raise
    clear_out(harness, run.bystanders, bounded_calls(harness))


def bounded_calls(harness: PrivacyHarness) -> Callable[..., Any]:
    """``call(method, *args)`` on the adapter, each bounded by the call timeout."""

    def bounded(method: str, *args: Any) -> Any:
        return harness.adapter.call_within(harness.settings.call_timeout, method, *args)

    return bounded


def run_deletion(
    harness: PrivacyHarness, scenario: DeletionScenario, sink: MailSink | None = None
) -> DeletionRun:
    adapter = harness.adapter
    bounded = bounded_calls(harness)
    accounts = []
    for index, person in enumerate(scenario.people):
        try:
            accounts.append(bounded("register", person))
        except RegistrationRejected as exc:
            raise CheckInconclusive(
                f"{adapter.name}.register() refused {_who(index)}, an adult born "
                f"{person.birth_date} ({exc}); deletion can only be checked on an account"
            ) from exc
    for index, kind in scenario.history:
        if kind == "purchase":
            bounded("purchase", accounts[index], scenario.people[index].card)
        else:
            bounded("add_history", accounts[index], kind, scenario.people[index])
    life = live(harness, sink, scenario.subject, accounts[SUBJECT], scenario.life)
    # every profile the subject had is theirs: the old name and e-mail are needles too
    people = [*scenario.people, *life.versions[1:]]
    before = harness.scanner.scan(people)
    if not before.of(scenario.subject.canary):
        raise CheckInconclusive(
            f"after {adapter.name}.register() no declared store holds any trace of the "
            f"person, so a deletion cannot be judged. Stores scanned: "
            f"{', '.join(s.name for s in harness.scanner.stores)}. Does stores() list "
            "every place the module writes to?"
        )
    mark = harness.processor_sink.mark()
    for account in life.accounts:  # a second account only if a re-import made one
        bounded("delete", account)
    after = harness.scanner.scan(people)
    return DeletionRun(scenario, before, after, mark, life, accounts[SUBJECT + 1 :])


def judge_comeback(
    harness: PrivacyHarness, life: Life, method: str, retentions: Sequence[Retention]
) -> None:
    """The deleted subject's e-mail comes back through ``method`` with new values for the
    rest: none of the deleted person's other values may reappear, in any store."""
    __tracebackhide__ = True
    newcomer = come_back(harness, life, method)
    if newcomer is None:
        return  # the module refuses the address again: nothing came back
    back: list[str | Evidence] = []
    for hit in harness.scanner.scan(resurrected(life, newcomer)):
        holders = [r for r in retentions if covers_location(r, hit)]
        for retention in holders:
            harness.used_retention(describe_retention(retention))
        if not holders:
            back.append(hit.evidence(f"after {method}() again with the deleted person's e-mail"))
    if back:
        raise PrivacyViolation(
            "deletion",
            f"{len(back)} value(s) of the deleted person came back when their e-mail "
            f"was used in {method}() again",
            back,
        )


def request_identifies(request: RecordedRequest, matcher: NeedleMatcher) -> bool:
    return matcher.matches(request.searchable)


def processor_told(
    processor: Processor, requests: Sequence[RecordedRequest], matcher: NeedleMatcher, sink_url: str
) -> bool | RequestUnreadable:
    """Whether a request to ``processor`` identifies the person; where none does but one
    could not be read, why: it may have, so that is no finding either way."""
    unreadable: RequestUnreadable | None = None
    for request in requests:
        if addressed_to(request, processor.url, sink_url):
            try:
                if request_identifies(request, matcher):
                    return True
            except RequestUnreadable as exc:
                unreadable = unreadable or exc
    return unreadable or False


class DeletionChecks:
    """Checks for the policy's "Right to Deletion" section."""

    @privacy_check("deletion", needs=("register", "delete", "stores"), cost=1)
    def test_deletion_leaves_no_residue(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """After a life of every capability the adapter has, delete() leaves nothing of
        any profile the person had outside declared retentions, removes nobody else's
        data, and their e-mail signing up or imported again brings none of it back."""
        __tracebackhide__ = True
        harness = privacy_harness
        strategy, floor = scenarios(harness)
        retentions, _ = sound_retentions(harness)

        def body(scenario: DeletionScenario) -> None:
            __tracebackhide__ = True
            with deletion_run(harness, scenario, mail_sink) as run:
                residue: list[str | Evidence] = []
                for hit in run.survivors:
                    holders = [r for r in retentions if covers_location(r, hit)]
                    for retention in holders:
                        harness.used_retention(describe_retention(retention))
                    if not holders:
                        residue.append(hit.evidence())
                lost = run.lost_bystander_data()
                if residue:
                    raise PrivacyViolation(
                        "deletion",
                        f"{len(residue)} trace(s) of the deleted person survived delete()",
                        residue + [f"(also) {line}" for line in lost],
                    )
                if lost:
                    raise PrivacyViolation(
                        "deletion", "delete() also removed other people's data", lost
                    )
                if scenario.comeback and run.life is not None:
                    judge_comeback(harness, run.life, scenario.comeback, retentions)

        run_property(harness, strategy, body, floor)

    @privacy_check(
        "deletion-processors",
        needs=("register", "delete", "stores", "processors"),
        cost=1,
    )
    def test_deletion_reaches_processors(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """Every declared service provider receives a request identifying the person
        while delete() runs."""
        __tracebackhide__ = True
        harness = privacy_harness
        # A site a person may connect their account to holds data only once they did:
        # account-disconnect judges those.
        processors = [p for p in observable_processors(harness) if not p.connectable]
        if not processors:
            raise NotApplicable(
                f"{harness.adapter.name}.processors() declares only connectable sites"
            )
        sink = harness.processor_sink
        strategy, floor = scenarios(harness)

        def body(scenario: DeletionScenario) -> None:
            __tracebackhide__ = True
            with deletion_run(harness, scenario, mail_sink) as run:
                matcher = NeedleMatcher(run.life.needles if run.life else scenario.subject.needles)
                requests = sink.wait_for(
                    lambda rs: all(
                        processor_told(p, rs, matcher, sink.url) is True for p in processors
                    ),
                    run.processor_mark,
                    harness.settings.processor_timeout,
                )
                outcomes = [processor_told(p, requests, matcher, sink.url) for p in processors]
                silent = [p for p, o in zip(processors, outcomes, strict=True) if o is False]
                if silent:
                    seen = [f"{r.method} {mask(r.path)}" for r in requests] or [
                        "no requests at all"
                    ]
                    raise PrivacyViolation(
                        "deletion-processors",
                        "not told to delete: " + ", ".join(f"{p.name} ({p.url})" for p in silent),
                        [f"received during delete(): {line}" for line in seen],
                    )
                for outcome in outcomes:
                    if isinstance(outcome, RequestUnreadable):
                        raise outcome  # told, perhaps: the check could not look

        run_property(harness, strategy, body, floor)

    @privacy_check(
        "deletion-exceptions",
        needs=("register", "delete", "stores", "retentions"),
        cost=1,
    )
    def test_retentions_cover_only_what_they_name(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """Each retention cites a listed exception, and what survives in its locations
        is only the fields it names."""
        __tracebackhide__ = True
        harness = privacy_harness
        declared = harness.adapter.retentions()
        if not declared:
            raise NotApplicable(f"{harness.adapter.name}.retentions() declares none")
        retentions, problems = sound_retentions(harness)
        if problems:
            raise PrivacyViolation(
                "deletion-exceptions", "retentions that no deletion exception allows", problems
            )
        strategy, floor = scenarios(harness)

        def body(scenario: DeletionScenario) -> None:
            __tracebackhide__ = True
            with deletion_run(harness, scenario, mail_sink) as run:
                beyond: list[Evidence] = []
                for hit in run.survivors:
                    holders = [r for r in retentions if covers_location(r, hit)]
                    for retention in holders:
                        harness.used_retention(describe_retention(retention))
                    if holders and not any(hit.field in r.fields for r in holders):
                        named = sorted({f for r in holders for f in r.fields})
                        beyond.append(hit.evidence(f"the retention names only {named}"))
                if beyond:
                    raise PrivacyViolation(
                        "deletion-exceptions",
                        f"{len(beyond)} value(s) kept beyond what their retention declares",
                        beyond,
                    )

        run_property(harness, strategy, body, floor)
