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


@contextmanager
def recording_seeds(into: list[str]) -> Iterator[None]:
    """Append to ``into`` the seed of every hypothesis search started meanwhile.

    Without ``--hypothesis-seed`` hypothesis draws a fresh seed for each search
    and keeps it on the wrapped test (``_hypothesis_internal_use_generated_seed``)
    only while it runs, and our runners' searches are not the pytest item. So the
    function that picks a search's random generator is wrapped to read it. A seed
    forced by ``--hypothesis-seed`` or ``@seed`` is recorded as such; a
    derandomized profile records none. Should a release move the function,
    nothing is recorded (the report then shows no seed, never a wrong one).
    """
    from hypothesis import core  # public module, private function

    original = getattr(core, "get_random_for_wrapped_test", None)
    if original is None:  # pragma: no cover - depends on the hypothesis release
        yield
        return

    def recorded(test: Any, wrapped_test: Any) -> Any:
        random = original(test, wrapped_test)
        seed = getattr(wrapped_test, "_hypothesis_internal_use_generated_seed", None)
        if seed is None:
            seed = getattr(wrapped_test, "_hypothesis_internal_use_seed", None)
        if seed is None and not wrapped_test._hypothesis_internal_use_settings.derandomize:
            seed = core.global_force_seed
        if seed is not None and str(seed) not in into:
            into.append(str(seed))
        return random

    core.get_random_for_wrapped_test = recorded
    try:
        yield
    finally:
        core.get_random_for_wrapped_test = original
