"""The state-machine runner: a fixed sequence of steps first, then hypothesis's search.

A machine is any ``RuleBasedStateMachine``: the runner needs nothing of it
beyond what hypothesis does, and a factory that builds one naming where its
steps come from (``"fixed sequence"`` or ``"generated sequence"``), for the
evidence. The machine reaches the adapter by closure, as
``run_state_machine_as_test`` expects, so shrinking and replay work.

One finding must not hide another. A :class:`RecordingMachine` records the
first violation of each clause (with whatever else that clause showed after the
same step) and goes on, raising them all at teardown; and
a failing fixed sequence does not end the check: the search still runs, with
the same settings, looking for what the fixed sequence did not show, and the
fixed sequence's violation is raised carrying what the search found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, cast

from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from ..findings.outcomes import PrivacyViolation, combine, is_known, violations_in
from .holder import PrivacyHarness
from .hypothesis_internals import check_invariants, set_database_key, shrink_budget
from .hypothesis_settings import search_settings
from .reducer import reduce_sequence

FIXED, GENERATED = "fixed sequence", "generated sequence"

M = TypeVar("M", bound=RuleBasedStateMachine)
M_co = TypeVar("M_co", bound=RuleBasedStateMachine, covariant=True)


class MachineFactory(Protocol[M_co]):
    """What the runner needs to build a machine: a fresh one per run, told its origin."""

    def __call__(self, origin: str) -> M_co: ...


class RecordingMachine(RuleBasedStateMachine):
    """A machine that records the first violation of each clause (evidence of that clause
    seen after the same step joins it) and goes on checking the others; its teardown (the
    end of a fixed sequence or of a generated example) raises them all, the first carrying
    the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.violations: dict[str, PrivacyViolation] = {}
        # What an earlier run of this check already showed (set by the runner for the
        # search after a failing fixed sequence): not recorded again.
        self.known: Sequence[PrivacyViolation] = ()

    def record(self, violation: PrivacyViolation) -> None:
        for found in violation.violations():
            if is_known(found, self.known):
                continue
            first = self.violations.get(found.clause)
            if first is None:
                self.violations[found.clause] = found
            elif found.example == first.example:
                # Seen after the same step as the clause's first violation: one finding
                # with all its evidence, so a search after this sequence does not take
                # the rest of it for something new (and spend its shrinking budget on it).
                self.violations[found.clause] = first.joined(found)

    def teardown(self) -> None:
        __tracebackhide__ = True
        try:
            self._after_run()
        finally:
            super().teardown()  # type: ignore[no-untyped-call, unused-ignore]
        violation = combine(self.violations.values())
        if violation is not None:
            raise violation

    def _after_run(self) -> None:
        """What a machine does once its run is judged, before the verdict is raised."""


class Step:
    """One rule call of a fixed sequence: the rule method itself and its arguments."""

    __slots__ = ("arguments", "rule")

    def __init__(self, rule: Callable[..., None], /, **arguments: Any) -> None:
        self.rule = rule
        self.arguments = arguments

    def apply(self, machine: RuleBasedStateMachine) -> None:
        self.rule(machine, **self.arguments)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{name}={value!r}" for name, value in self.arguments.items())
        return f"{self.rule.__name__}({arguments})"


def run_state_machine(
    harness: PrivacyHarness,
    factory: MachineFactory[M],
    fixed_steps: Sequence[Step],
    **overrides: Any,
) -> None:
    """Run ``fixed_steps`` on a fresh machine, then let hypothesis search step sequences.

    A failure of the fixed sequence is reduced to the steps that matter, and
    the search still runs (the same budget, no more): a failure it finds that
    the fixed sequence did not show (another clause, or other evidence) is
    raised with the fixed sequence's, carried as a further violation; one
    the fixed sequence already showed is not reported twice. ``overrides``
    win over the profile's settings, e.g. ``stateful_step_count``.
    """
    __tracebackhide__ = True
    violation, ran = replay(factory, fixed_steps)
    harness.statistics.fixed_examples += 1
    if violation is None:
        search(harness, factory, (), **overrides)
        return
    reduction = reduce_sequence(
        fixed_steps[:ran],
        violation,
        lambda steps: replay(factory, steps),
        harness.settings.shrink_seconds,
    )
    # The reduced sequence shows its clause; what else the whole sequence showed stays,
    # as it showed it.
    reduced = reduction.violation.of_clause(violation.clause) or reduction.violation.alone()
    others = [v for v in violation.violations() if v.clause != reduced.clause]
    fixed = combine([reduced, *others])
    assert fixed is not None
    known = (*fixed.violations(), *violation.violations())
    try:
        search(harness, factory, known, **overrides)
    except Exception as error:  # the search's verdict joins the fixed sequence's
        shown = violations_in(error)
        if not shown:  # it broke: the fixed sequence's violation stands, the error beneath
            raise fixed from error
        found = [v for v in shown if not is_known(v, known)]
        fixed = combine([fixed, *found]) or fixed
    raise fixed from None


def search(
    harness: PrivacyHarness,
    factory: MachineFactory[M],
    known: Sequence[PrivacyViolation],
    **overrides: Any,
) -> None:
    """Hypothesis's search over step sequences, within the profile's budget. A
    :class:`RecordingMachine` there does not record again what ``known`` shows, so the
    search goes on looking for something else."""
    __tracebackhide__ = True

    def generated() -> M:
        harness.statistics.generated_examples += 1
        machine = factory(GENERATED)
        if isinstance(machine, RecordingMachine):
            machine.known = known
        return machine

    set_database_key(generated, harness.nodeid.encode())
    with shrink_budget(harness.settings.shrink_seconds):
        # untyped before hypothesis 6.16x; the ignore is for those versions
        run_state_machine_as_test(  # type: ignore[no-untyped-call,unused-ignore]
            _as_machine_class(generated), settings=search_settings(harness.settings, **overrides)
        )


def replay(
    factory: MachineFactory[RuleBasedStateMachine], steps: Sequence[Step]
) -> tuple[PrivacyViolation | None, int]:
    """Run ``steps`` on a fresh machine, checking its invariants before the first step and
    after each, as hypothesis does. Returns the violation (None if every invariant held)
    and how many steps ran up to it, the failing one included: for a
    :class:`RecordingMachine`, which goes on to the end, up to the first violation it
    recorded (the one raised first)."""
    machine = factory(FIXED)
    ran = 0
    first: int | None = None  # the steps that ran when the machine recorded its first

    def recorded_yet() -> None:
        nonlocal first
        if first is None and isinstance(machine, RecordingMachine) and machine.violations:
            first = ran

    try:
        check_invariants(machine)
        recorded_yet()
        for step in steps:
            ran += 1
            step.apply(machine)
            check_invariants(machine)
            recorded_yet()
    except PrivacyViolation as violation:
        return _torn_down(machine, violation), ran
    except BaseException as error:
        recorded = _torn_down(machine, None)
        if recorded is None or not isinstance(error, Exception):
            raise
        return recorded, ran if first is None else first  # proven before it broke: stands
    return _torn_down(machine, None), ran if first is None else first


def _torn_down(
    machine: RuleBasedStateMachine, violation: PrivacyViolation | None
) -> PrivacyViolation | None:
    """Tear ``machine`` down; the violation a step raised, with those its teardown raised
    (what a :class:`RecordingMachine` recorded) after it."""
    try:
        machine.teardown()  # type: ignore[no-untyped-call,unused-ignore]
    except PrivacyViolation as recorded:
        return combine([recorded] if violation is None else [violation, recorded])
    return violation


def _as_machine_class(factory: Callable[[], M]) -> type[M]:
    """``factory`` as hypothesis's annotation wants it: a class. Hypothesis documents the
    argument as "a class or a function" returning a machine, and calls it with no
    arguments; only its annotation is narrower."""
    return cast("type[M]", factory)
