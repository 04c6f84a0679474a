"""The state-machine runner: a fixed sequence of steps first, then hypothesis's search.

A machine is any ``RuleBasedStateMachine``: the runner needs nothing of it
beyond what hypothesis does, and a factory that builds one naming where its
steps come from (``"fixed sequence"`` or ``"generated sequence"``), for the
evidence. The machine reaches the adapter by closure, as
``run_state_machine_as_test`` expects, so shrinking and replay work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, cast

from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from ..findings.outcomes import PrivacyViolation
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

    A failure of the fixed sequence is reduced to the steps that matter
    before it is raised. ``overrides`` win over the profile's settings, e.g.
    ``stateful_step_count``.
    """
    __tracebackhide__ = True
    violation, ran = replay(factory, fixed_steps)
    harness.statistics.fixed_examples += 1
    if violation is not None:
        reduction = reduce_sequence(
            fixed_steps[:ran],
            violation,
            lambda steps: replay(factory, steps),
            harness.settings.shrink_seconds,
        )
        raise reduction.violation from None

    def generated() -> M:
        harness.statistics.generated_examples += 1
        return factory(GENERATED)

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
    and how many steps ran, the failing one included."""
    machine = factory(FIXED)
    ran = 0
    try:
        check_invariants(machine)
        for step in steps:
            ran += 1
            step.apply(machine)
            check_invariants(machine)
    except PrivacyViolation as violation:
        return violation, ran
    finally:
        machine.teardown()  # type: ignore[no-untyped-call,unused-ignore]
    return None, ran


def _as_machine_class(factory: Callable[[], M]) -> type[M]:
    """``factory`` as hypothesis's annotation wants it: a class. Hypothesis documents the
    argument as "a class or a function" returning a machine, and calls it with no
    arguments; only its annotation is narrower."""
    return cast("type[M]", factory)
