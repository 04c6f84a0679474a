"""The private parts of hypothesis the runners rely on, and only here.

Hypothesis offers no public API for these needs. Each use is isolated in
this module, and ``tests/test_hypothesis_internals.py`` fails loudly when a
release moves or drops one, so an upgrade cannot quietly change a check.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis.stateful import INVARIANT_MARKER, RuleBasedStateMachine


@contextmanager
def shrink_budget(seconds: float) -> Iterator[None]:
    """Bound hypothesis's shrinking (five minutes by default) for expensive examples.

    Each example of a privacy check drives a whole module and scans every
    store, so the default bound can cost a CI job its timeout. Hypothesis
    reads the bound from a module constant it documents as monkeypatchable;
    should a release move it, its default applies (slower, never wrong).
    """
    try:
        from hypothesis.internal.conjecture import engine
    except ImportError:  # pragma: no cover - depends on the hypothesis release
        yield
        return
    previous = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if previous is None:  # pragma: no cover
        yield
        return
    engine.MAX_SHRINKING_SECONDS = seconds  # type: ignore[assignment]
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = previous


def set_database_key(test: Callable[..., Any], key: bytes) -> None:
    """Give ``test`` (a ``@given`` inner test or a state-machine factory) its own entries
    in the example database, so every user's suite test keeps its own failures.

    Hypothesis keys entries by the function's source, which is the same for
    every suite built on these runners; its pytest plugin adds parametrize ids
    through this attribute, and so do we.
    """
    test._hypothesis_internal_add_digest = key  # type: ignore[attr-defined]


def check_invariants(machine: RuleBasedStateMachine) -> None:
    """Run each ``@invariant`` of ``machine`` whose preconditions hold, as hypothesis does
    after every rule, for runs that drive the rules directly (a fixed sequence).

    Hypothesis finds invariants by the marker its decorator leaves on each
    method; a fixed sequence finds them the same way, so it checks exactly
    the invariants a generated sequence does.
    """
    for _, member in inspect.getmembers(type(machine)):
        found = getattr(member, INVARIANT_MARKER, None)
        if found is not None and all(holds(machine) for holds in found.preconditions):
            found.function(machine)
