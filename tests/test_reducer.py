"""The sequence reducer: a failing fixed sequence cut to the steps that matter."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pytest_stexcel_privacy.findings.outcomes import PrivacyViolation
from pytest_stexcel_privacy.harness.reducer import reduce_sequence

STEPS = list("abcdefghij")
Replay = Callable[[Sequence[str]], tuple[PrivacyViolation | None, int]]


class Module:
    """Fails under ``clause`` as soon as every ``needed`` step has run; counts replays."""

    def __init__(self, needed: str, clause: str = "deletion") -> None:
        self.needed = set(needed)
        self.clause = clause
        self.replays: list[list[str]] = []

    def replay(self, steps: Sequence[str]) -> tuple[PrivacyViolation | None, int]:
        self.replays.append(list(steps))
        for ran in range(1, len(steps) + 1):
            if self.needed <= set(steps[:ran]):
                example = "; ".join(steps[:ran])
                return PrivacyViolation(self.clause_for(steps), "kept", [], example), ran
        return None, len(steps)

    def clause_for(self, steps: Sequence[str]) -> str:
        return self.clause


def failing(module: Module) -> tuple[list[str], PrivacyViolation]:
    violation, ran = module.replay(STEPS)
    assert violation is not None
    module.replays.clear()
    return STEPS[:ran], violation


def test_reduces_to_the_steps_that_matter() -> None:
    module = Module("cg")
    steps, violation = failing(module)
    reduction = reduce_sequence(steps, violation, module.replay, seconds=60)
    assert reduction.steps == ["c", "g"]
    assert reduction.violation.example == "c; g"  # the violation as the short sequence shows it


def test_a_step_whose_absence_breaks_the_module_differently_is_kept() -> None:
    class NeedsSetUp(Module):
        def replay(self, steps: Sequence[str]) -> tuple[PrivacyViolation | None, int]:
            if "a" not in steps:
                raise RuntimeError("no account to act on")
            return super().replay(steps)

    module = NeedsSetUp("cg")
    steps, violation = failing(module)
    assert reduce_sequence(steps, violation, module.replay, seconds=60).steps == ["a", "c", "g"]


def test_a_shorter_sequence_showing_another_clause_is_not_taken() -> None:
    class ChildrenWithoutB(Module):
        def clause_for(self, steps: Sequence[str]) -> str:
            return self.clause if "b" in steps else "children"

    module = ChildrenWithoutB("cg")
    steps, violation = failing(module)
    reduction = reduce_sequence(steps, violation, module.replay, seconds=60)
    assert reduction.steps == ["b", "c", "g"]
    assert reduction.violation.clause == "deletion"


def test_the_budget_bounds_the_replays() -> None:
    module = Module("cg")
    steps, violation = failing(module)

    def clock() -> float:  # one second per replay
        return float(len(module.replays))

    reduction = reduce_sequence(steps, violation, module.replay, seconds=3, clock=clock)
    assert len(module.replays) == 3
    assert {"c", "g"} <= set(reduction.steps)  # still a failing sequence, if not the shortest


def test_no_budget_returns_the_sequence_unreduced() -> None:
    module = Module("cg")
    steps, violation = failing(module)
    reduction = reduce_sequence(steps, violation, module.replay, seconds=0)
    assert (reduction.steps, reduction.violation) == (steps, violation)
    assert module.replays == []
