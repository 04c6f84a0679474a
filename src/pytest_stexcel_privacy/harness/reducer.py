"""Reducing a failing fixed sequence to the steps that matter, as hypothesis shrinks its own.

A pure function over a ``replay`` callable, so it is tested without an
adapter: ``replay(steps)`` runs the steps on a fresh machine and returns the
violation they show (None if none) and how many steps ran up to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..findings.outcomes import PrivacyViolation

S = TypeVar("S")

Replay = Callable[[Sequence[S]], tuple[PrivacyViolation | None, int]]


@dataclass(frozen=True)
class Reduction(Generic[S]):
    steps: list[S]
    violation: PrivacyViolation  # as the shortest sequence found shows it


def reduce_sequence(
    steps: Sequence[S],
    violation: PrivacyViolation,
    replay: Replay[S],
    seconds: float,
    clock: Callable[[], float] = time.monotonic,
) -> Reduction[S]:
    """The shortest sub-sequence of ``steps`` found within ``seconds`` that still shows a
    violation of the same clause (first or carried as a further one).

    Runs of steps are dropped, halves first, then ever shorter runs down to
    single steps, from the end backwards. A shorter sequence that breaks the
    machine differently (any other exception), or shows another clause's
    violation, keeps the steps it lacked.
    """
    deadline = clock() + seconds
    kept = list(steps)
    chunk = max(1, len(kept) // 2)
    while clock() < deadline:
        shrunk = False
        start = len(kept) - chunk
        while start >= 0 and clock() < deadline:
            candidate = kept[:start] + kept[start + chunk :]
            try:
                again, ran = replay(candidate)
            except Exception:  # the shorter sequence broke differently: keep the steps
                again, ran = None, 0
            same = again.of_clause(violation.clause) if again is not None else None
            if again is not None and same is not None:
                # ``ran`` counts the steps up to the first violation: keep them all when
                # this clause's came after it
                kept = candidate[:ran] if again.clause == violation.clause else candidate
                violation, shrunk = same, True
            start = min(start, len(kept)) - chunk
        if not shrunk:
            if chunk == 1:
                break
            chunk = max(1, chunk // 2)
    return Reduction(kept, violation)
