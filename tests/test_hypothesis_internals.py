"""The private hypothesis names the runners rely on are still where they were.

When one of these fails after a hypothesis upgrade, ``harness/hypothesis_internals.py``
needs a new way to do the same thing (or a public API that replaced it).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import seed as replay
from hypothesis import strategies as st
from hypothesis.database import InMemoryExampleDatabase
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from pytest_stexcel_privacy.harness.hypothesis_internals import (
    check_invariants,
    recording_seeds,
    set_database_key,
    shrink_budget,
)


class KeyRecorder(InMemoryExampleDatabase):
    """An example database noting the keys hypothesis saves failures under."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[bytes] = set()

    def save(self, key: bytes, value: bytes) -> None:
        self.keys.add(key)
        super().save(key, value)


SEARCH = {"max_examples": 20, "phases": [Phase.generate], "deadline": None}


def test_the_shrinking_bound_is_the_module_constant_it_was() -> None:
    from hypothesis.internal.conjecture import engine

    assert isinstance(getattr(engine, "MAX_SHRINKING_SECONDS", None), int), (
        "hypothesis moved MAX_SHRINKING_SECONDS: --privacy-shrink-seconds bounds nothing now"
    )
    before = engine.MAX_SHRINKING_SECONDS
    with shrink_budget(7):
        assert engine.MAX_SHRINKING_SECONDS == 7
    assert before == engine.MAX_SHRINKING_SECONDS


def saved_keys_of_a_property(key: bytes) -> set[bytes]:
    database = KeyRecorder()

    def fails(number: int) -> None:
        raise AssertionError(number)

    set_database_key(fails, key)
    with pytest.raises(AssertionError):
        settings(database=database, **SEARCH)(given(st.integers())(fails))()
    return database.keys


def test_a_property_keyed_by_its_check_keeps_its_own_database_entries() -> None:
    first, second = saved_keys_of_a_property(b"suite-a"), saved_keys_of_a_property(b"suite-b")
    assert first, "hypothesis saved nothing: the test no longer observes the database"
    assert first.isdisjoint(second), (
        "hypothesis ignores _hypothesis_internal_add_digest: every suite shares one entry"
    )


class AlwaysFails(RuleBasedStateMachine):
    @rule()
    def step(self) -> None:
        raise AssertionError("broken")


def saved_keys_of_a_machine(key: bytes) -> set[bytes]:
    database = KeyRecorder()

    def factory() -> Any:
        return AlwaysFails()

    set_database_key(factory, key)
    with pytest.raises(AssertionError):
        run_state_machine_as_test(factory, settings=settings(database=database, **SEARCH))
    return database.keys


def test_a_state_machine_keyed_by_its_check_keeps_its_own_database_entries() -> None:
    first, second = saved_keys_of_a_machine(b"suite-a"), saved_keys_of_a_machine(b"suite-b")
    assert first
    assert first.isdisjoint(second)


class Watched(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.checked: list[str] = []
        self.ready = False

    @rule()
    def step(self) -> None:
        pass

    @invariant()
    def always(self) -> None:
        self.checked.append("always")

    @precondition(lambda self: self.ready)
    @invariant()
    def once_ready(self) -> None:
        self.checked.append("once_ready")

    def not_an_invariant(self) -> None:
        self.checked.append("not_an_invariant")


def test_a_fixed_sequence_checks_the_invariants_hypothesis_checks() -> None:
    machine = Watched()
    check_invariants(machine)
    assert machine.checked == ["always"]
    machine.ready = True
    check_invariants(machine)
    assert machine.checked == ["always", "always", "once_ready"]


def test_the_seed_hypothesis_draws_for_a_search_is_recorded() -> None:
    """Without --hypothesis-seed each search draws its own seed; the report records it, and
    replaying it (hypothesis's @seed, as --hypothesis-seed does) draws the same examples."""
    drawn: list[int] = []

    # derandomize=False: under CI=true hypothesis's own "ci" profile derandomizes
    @settings(max_examples=5, database=None, derandomize=False)
    @given(st.integers())
    def search(value: int) -> None:
        drawn.append(value)

    seeds: list[str] = []
    with recording_seeds(seeds):
        search()
    [seed] = seeds
    first, drawn[:] = list(drawn), []
    replay(int(seed))(search)()
    assert drawn == first


def test_a_derandomized_search_records_no_seed() -> None:
    """It has none: a seed recorded for it would replay nothing."""

    @settings(max_examples=3, database=None, derandomize=True)
    @given(st.integers())
    def search(value: int) -> None:
        pass

    seeds: list[str] = []
    with recording_seeds(seeds):
        search()
    assert seeds == []
