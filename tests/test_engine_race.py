"""The engine race: the faster engine searches, whichever it is, and what is found never
depends on which did."""

from __future__ import annotations

import random

import ahocorasick_rs
import pytest

from availability import require
from pytest_stexcel_privacy.scan import encoded_cells, engine_race, hyperscan_search
from pytest_stexcel_privacy.scan.encoded_cells import EncodedCells
from pytest_stexcel_privacy.scan.engine_race import (
    RETRY_EVERY,
    RETRY_MOST,
    ROUNDS,
    TIMED_BYTES,
    EngineRace,
)
from pytest_stexcel_privacy.scan.matcher import (
    DFA_AFTER_BYTES_PER_NEEDLE_BYTE,
    DFA_MAX_NEEDLES,
    Automaton,
)


class Clock:
    """The threads' CPU clock as the race reads it, advanced only by the engines below: a
    real clock would count the test's own pauses (a garbage collection) as search time."""

    def __init__(self) -> None:
        self.ns = 0

    def thread_time_ns(self) -> int:
        return self.ns


class Costing:
    """An engine whose every search costs ``seconds`` of the clock."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        self.searches = 0

    def find_matches_as_indexes(
        self, haystack: bytes, overlapping: bool = False
    ) -> list[tuple[int, int, int]]:
        self.searches += 1
        self.clock.ns += int(self.seconds * 1e9)
        return [(0, 0, 1)]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(engine_race, "time", clock)
    return clock


def test_the_faster_engine_searches_once_both_are_timed(clock: Clock) -> None:
    slow, fast = Costing(clock, 0.004), Costing(clock, 0.0005)
    race = EngineRace(slow, lambda: fast)
    race.find_matches_as_indexes(b"small")  # not timed: the first engine, nothing built
    assert (slow.searches, len(race.engines)) == (1, 1)
    large = bytes(TIMED_BYTES)
    for _ in range(2 * ROUNDS):
        race.find_matches_as_indexes(large)
    assert (slow.searches, fast.searches) == (1 + ROUNDS, ROUNDS)
    assert race.leader == 1
    # the loser is tried again after RETRY_EVERY timed values, then after twice as many
    # each time it loses again, up to RETRY_MOST
    retries_at, timed = [], 0
    while timed < 3 * RETRY_MOST:
        before = slow.searches
        race.find_matches_as_indexes(large)
        timed += 1
        if slow.searches > before:
            retries_at.append(timed)
    gaps = [b - a for a, b in zip([0, *retries_at], retries_at, strict=False)]
    assert gaps[:3] == [RETRY_EVERY, 2 * RETRY_EVERY, 4 * RETRY_EVERY]
    assert max(gaps) == RETRY_MOST
    # small values go to the first engine, however slow it is on large ones
    race.find_matches_as_indexes(b"small")
    assert slow.searches == 1 + ROUNDS + len(retries_at) + 1


def test_without_a_second_engine_the_first_searches_alone(clock: Clock) -> None:
    first = Costing(clock, 0.001)
    built = []
    race = EngineRace(first, lambda: built.append(1))  # None: nothing to race
    for _ in range(3):
        race.find_matches_as_indexes(bytes(TIMED_BYTES))
    assert (first.searches, len(race.engines), built) == (3, 1, [1])


def test_data_that_slows_the_leader_changes_the_choice_at_the_next_retry(clock: Clock) -> None:
    first, second = Costing(clock, 0.0005), Costing(clock, 0.003)
    race = EngineRace(first, lambda: second)
    large = bytes(TIMED_BYTES)
    for _ in range(2 * ROUNDS + 3 * RETRY_EVERY):  # second retried and lost twice
        race.find_matches_as_indexes(large)
    assert race.leader == 0
    # a table of another kind: the retry alone shows it (averaged with the second's
    # slow past, it would not)
    first.seconds, second.seconds = 0.0015, 0.0005
    searched = second.searches
    for _ in range(4 * RETRY_EVERY + 2):
        race.find_matches_as_indexes(large)
    assert race.leader == 1
    # the retry that found it faster, then every value since
    assert second.searches > searched + 1


@pytest.mark.parametrize(
    ("kind", "overlapping"),
    [
        (ahocorasick_rs.MatchKind.Standard, True),
        (ahocorasick_rs.MatchKind.Standard, False),
        (ahocorasick_rs.MatchKind.LeftmostFirst, False),
    ],
)
def test_large_values_find_the_same_whichever_engine_searched_them(
    kind: ahocorasick_rs.MatchKind, overlapping: bool
) -> None:
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")
    rng = random.Random(18)
    needles = tuple(
        {bytes(rng.choice(b"ab@.\x00") for _ in range(rng.randint(1, 6))) for _ in range(40)}
    )
    automaton = Automaton(needles, kind)
    automaton.find_matches_as_indexes(
        bytes(sum(map(len, needles)) * DFA_AFTER_BYTES_PER_NEEDLE_BYTE + 1)
    )
    assert isinstance(automaton._current, EngineRace)
    nfa = ahocorasick_rs.BytesAhoCorasick(
        list(needles), matchkind=kind, implementation=ahocorasick_rs.Implementation.ContiguousNFA
    )
    for _ in range(2 * ROUNDS + RETRY_EVERY + 2):
        value = bytes(rng.choice(b"ab@.\x00xyz") for _ in range(TIMED_BYTES + 100))
        found = automaton.find_matches_as_indexes(value, overlapping=overlapping)
        assert found == nfa.find_matches_as_indexes(value, overlapping=overlapping)
    race = automaton._current
    assert len(race.engines) == 2
    assert {type(engine).__name__ for engine in race.engines} == {
        "HyperscanSearch",
        "BytesAhoCorasick",
    }


def test_values_too_long_for_hyperscan_are_searched_by_the_dfa(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hyperscan's binding cuts a length past 32 bits (a value of 4 GB would be searched
    only in part): such values go to the DFA, and Hyperscan refuses them outright. Here
    "too long" is made 100 kB."""
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")
    monkeypatch.setattr(hyperscan_search, "LONGEST_SCAN", 100_000)
    needle = b"john.smith@example.com"
    automaton = Automaton((needle,), ahocorasick_rs.MatchKind.Standard)
    automaton.find_matches_as_indexes(bytes(len(needle) * DFA_AFTER_BYTES_PER_NEEDLE_BYTE + 1))
    for _ in range(2 * ROUNDS):  # both engines timed: the race has begun
        automaton.find_matches_as_indexes(bytes(TIMED_BYTES))
    race = automaton._current
    assert isinstance(race, EngineRace)
    race._speeds = [1.0, 0.5]  # as if Hyperscan had won it
    assert race.leader == 1
    long_value = bytes(150_000) + needle
    found = automaton.find_matches_as_indexes(long_value, overlapping=True)
    assert found == [(0, 150_000, 150_000 + len(needle))]
    search = hyperscan_search.compiled((needle,), ahocorasick_rs.MatchKind.Standard)
    assert search is not None
    with pytest.raises(ValueError, match="cannot search 150,022 bytes"):
        search.find_matches_as_indexes(long_value, overlapping=True)
    many = Automaton(
        tuple(b"%08d" % n for n in range(DFA_MAX_NEEDLES + 1)),
        ahocorasick_rs.MatchKind.LeftmostFirst,
    )
    many.find_matches_as_indexes(bytes(DFA_AFTER_BYTES_PER_NEEDLE_BYTE * 9 * (DFA_MAX_NEEDLES + 1)))
    many.find_matches_as_indexes(bytes(TIMED_BYTES))  # short enough: Hyperscan is built
    assert many.engines == ("nfa", "hyperscan")
    many_race = many._current
    assert isinstance(many_race, EngineRace)
    many_race._speeds = [1.0, 0.5]  # as if Hyperscan had won it
    assert many.find_matches_as_indexes(bytes(150_000) + b"00000007") == [(7, 150_000, 150_008)]
    cells = EncodedCells(b"\t\n")
    assert cells.starts(bytes(150_000) + b"\t0123456789abcdeg") == {150_001}


def test_a_buffer_of_any_format_is_compared_as_bytes() -> None:
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")
    needle = b"abcdefghijklmnopq"  # longer than the prefix Hyperscan searches
    search = hyperscan_search.compiled((needle,), ahocorasick_rs.MatchKind.Standard)
    assert search is not None
    value = memoryview(b"xx" + needle).cast("c")
    assert search.find_matches_as_indexes(value, overlapping=True) == [(0, 2, 19)]


def test_needles_hyperscan_refuses_are_searched_by_the_other_engines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A compile Hyperscan refuses (a CPU without SSSE3, a resource limit) leaves the DFA
    searching every value, or the NFA for too many needles for a DFA."""
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")

    def refused(*args: object, **kwargs: object) -> None:
        raise hyperscan_search.Error("refused")

    monkeypatch.setattr(hyperscan_search.Compiled, "__init__", refused)
    needle = b"john.smith@example.com"
    automaton = Automaton((needle,), ahocorasick_rs.MatchKind.Standard)
    automaton.find_matches_as_indexes(bytes(len(needle) * DFA_AFTER_BYTES_PER_NEEDLE_BYTE + 1))
    value = bytes(TIMED_BYTES) + needle
    for _ in range(2 * ROUNDS + 1):
        assert automaton.find_matches_as_indexes(value, overlapping=True) == [
            (0, TIMED_BYTES, TIMED_BYTES + len(needle))
        ]
    race = automaton._current
    assert isinstance(race, EngineRace)
    assert len(race.engines) == 1
    many = Automaton(
        tuple(b"%08d" % n for n in range(DFA_MAX_NEEDLES + 1)),
        ahocorasick_rs.MatchKind.LeftmostFirst,
    )
    many.find_matches_as_indexes(bytes(DFA_AFTER_BYTES_PER_NEEDLE_BYTE * 9 * (DFA_MAX_NEEDLES + 1)))
    assert many.engines == ("nfa",)
    assert many.find_matches_as_indexes(b"id 00000007") == [(7, 3, 11)]
    # the encoded-cell test then runs over byte classes (its compile is cached: asked anew)
    assert encoded_cells._compiled.__wrapped__(b"\t\n") is None
