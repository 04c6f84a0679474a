"""The property runner: a check's body on fixed floor examples, then on generated ones.

The check's body reaches the adapter by closure, not through pytest
fixtures, so hypothesis's shrinking and replay work inside the check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from hypothesis import given
from hypothesis.strategies import SearchStrategy

from ..findings.outcomes import PrivacyViolation
from .holder import PrivacyHarness
from .hypothesis_internals import set_database_key, shrink_budget
from .hypothesis_settings import search_settings

T = TypeVar("T")


def run_property(
    harness: PrivacyHarness,
    strategy: SearchStrategy[T],
    body: Callable[[T], None],
    floor: Sequence[T] = (),
) -> None:
    """Run ``body`` on the ``floor`` examples, then on examples drawn from ``strategy``.

    ``floor`` is a fixed scenario exercising every capability, so coverage
    never depends on a lucky draw; it runs first because a failure there
    needs no search and no shrinking. A failure found by hypothesis is then
    shrunk for at most ``shrink_seconds``.
    """
    __tracebackhide__ = True
    for example in floor:
        harness.statistics.fixed_examples += 1
        _attempt(harness, body, example, "fixed scenario")

    def check(example: T) -> None:
        __tracebackhide__ = True
        harness.statistics.generated_examples += 1
        try:
            _attempt(harness, body, example, "generated scenario")
        except PrivacyViolation:
            harness.statistics.failing_examples += 1
            raise

    set_database_key(check, harness.nodeid.encode())
    search = search_settings(harness.settings)(given(strategy)(check))
    with shrink_budget(harness.settings.shrink_seconds):
        search()


def _attempt(harness: PrivacyHarness, body: Callable[[T], None], example: T, kind: str) -> None:
    """``body(example)``; a violation fails it only for what the project did not accept."""
    __tracebackhide__ = True
    try:
        body(example)
    except PrivacyViolation as violation:
        # Hypothesis replays the shrunk example last, so a generated one is the minimal one.
        harness.acceptance.enforce(violation.in_example(f"{kind} {example!r}"))
