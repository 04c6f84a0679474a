"""The needle matcher against a naive search: every match, whatever the search's shortcuts.

The matcher asks a leftmost-first automaton first whether a value holds any
needle at all, and searches overlapping matches only where it does; file
chunks are searched folded ("@" and "`" alike) and checked against the bytes
as they were. None of that may lose a match: a needle inside another, two
needles sharing bytes, a match a folded look-alike would overlap.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import ahocorasick_rs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from availability import require
from pytest_stexcel_privacy.people.needles import Needle
from pytest_stexcel_privacy.scan import hyperscan_search
from pytest_stexcel_privacy.scan.matcher import (
    DFA_AFTER_BYTES_PER_NEEDLE_BYTE,
    DFA_MAX_NEEDLES,
    Automaton,
    NeedleMatcher,
    fold,
)

# Few letters, so needles overlap and nest often; "@" and "`" fold alike.
ALPHABET = b"aAb@`"
keys = st.binary(min_size=1, max_size=4).map(lambda b: bytes(ALPHABET[c % 5] for c in b))
data = st.binary(max_size=60).map(lambda b: bytes(ALPHABET[c % 5] for c in b))


def matcher_of(texts: list[bytes]) -> NeedleMatcher:
    return NeedleMatcher(
        Needle("p", f"f{n}", "exact", text.decode("ascii")) for n, text in enumerate(texts)
    )


def naive(matcher: NeedleMatcher, value: bytes) -> set[tuple[int, str]]:
    lowered = value.lower()
    return {
        (start, needle.field)
        for needle in matcher.needles
        for start in range(len(lowered))
        if lowered.startswith(needle.key, start)
    }


@given(st.lists(keys, min_size=1, max_size=6), data)
def test_search_finds_every_match(texts: list[bytes], value: bytes) -> None:
    matcher = matcher_of(texts)
    found = {(start, n.field) for start, group in matcher.search(value) for n in group}
    assert found == naive(matcher, value)


@given(st.lists(keys, min_size=1, max_size=6), data)
def test_a_folded_search_finds_every_match_and_no_look_alike(
    texts: list[bytes], value: bytes
) -> None:
    matcher = matcher_of(texts)
    folded = fold(value)
    found = {
        (start, n.field)
        for start, group in matcher.search_folded(folded, lambda a, b: value[a:b])
        for n in group
    }
    assert found == naive(matcher, value)


@given(st.lists(keys, min_size=1, max_size=6), st.lists(data, max_size=8))
def test_each_value_holding_a_needle_is_held(texts: list[bytes], values: list[bytes]) -> None:
    matcher = matcher_of(texts)
    assert matcher.holding(values) == [bool(naive(matcher, v)) for v in values]


# (kind, overlapping): every way the scanners search
SEARCHES = [
    (ahocorasick_rs.MatchKind.Standard, True),
    (ahocorasick_rs.MatchKind.Standard, False),
    (ahocorasick_rs.MatchKind.LeftmostFirst, False),
]
NEEDS_HYPERSCAN = pytest.mark.skipif(
    # under CI=true it must be there: the test then fails where it is not
    not hyperscan_search.available() and os.environ.get("CI", "").lower() != "true",
    reason="Hyperscan is not installed: pip install -e '.[fast]'",
)
# NUL bytes (which Hyperscan's pure literals cannot hold) and bytes past ASCII.
raw_keys = st.binary(min_size=1, max_size=4).map(lambda b: bytes(b"ab\x00\xff"[c % 4] for c in b))
raw_data = st.binary(max_size=60).map(lambda b: bytes(b"ab\x00\xff"[c % 4] for c in b))
needle_sets = st.lists(keys | raw_keys, min_size=1, max_size=6, unique=True)
values = st.lists(data | raw_data, min_size=1, max_size=8)


def nfa_answers(
    texts: list[bytes], values: list[bytes], search: tuple[ahocorasick_rs.MatchKind, bool]
) -> list[list[tuple[int, int, int]]]:
    """The reference: the library's NFA, which never switches."""
    kind, overlapping = search
    nfa = ahocorasick_rs.BytesAhoCorasick(
        texts, matchkind=kind, implementation=ahocorasick_rs.Implementation.ContiguousNFA
    )
    return [nfa.find_matches_as_indexes(v, overlapping=overlapping) for v in values]


@NEEDS_HYPERSCAN
@pytest.mark.parametrize("prefix_bytes", [hyperscan_search.PREFIX_BYTES, 2])
@given(needle_sets, values, st.sampled_from(SEARCHES))
# needles starting together (leftmost-first takes the one listed first), ending together
# (overlapping: the longer first), and one holding a NUL byte
@example([b"a", b"ab"], [b"xab"], SEARCHES[2])
@example([b"ab", b"b"], [b"abab"], SEARCHES[0])
@example([b"b", b"ab", b"bab"], [b"abab"], SEARCHES[1])
@example([b"a\x00b", b"a"], [b"aa\x00ba"], SEARCHES[0])
# needles of two lengths behind one prefix (of 2 bytes), both found where they start
@example([b"ab", b"abab"], [b"abab"], SEARCHES[0])
def test_hyperscan_finds_what_the_nfa_finds(
    prefix_bytes: int,
    texts: list[bytes],
    values: list[bytes],
    search: tuple[ahocorasick_rs.MatchKind, bool],
) -> None:
    """Every kind of search, in the same order; with prefixes of 2 bytes too, so that the
    generated needles are cut and the comparison of their other bytes is tried."""
    kind, overlapping = search
    with mock.patch.object(hyperscan_search, "PREFIX_BYTES", prefix_bytes):
        engine = hyperscan_search.compiled(tuple(texts), kind)
    assert engine is not None
    found = [engine.find_matches_as_indexes(v, overlapping=overlapping) for v in values]
    assert found == nfa_answers(texts, values, search)


@NEEDS_HYPERSCAN
def test_hyperscan_refuses_what_the_library_refuses() -> None:
    """An overlapping search of the leftmost-first kind is refused by both engines alike,
    so a caller's mistake shows whichever engine the race chose."""
    keys = (b"ab",)
    kind = ahocorasick_rs.MatchKind.LeftmostFirst
    engine = hyperscan_search.compiled(keys, kind)
    assert engine is not None
    library = ahocorasick_rs.BytesAhoCorasick(list(keys), matchkind=kind)
    for searcher in (library, engine):
        with pytest.raises(ValueError, match="does not support overlapping"):
            searcher.find_matches_as_indexes(b"xab", overlapping=True)


@given(needle_sets, values, st.sampled_from(SEARCHES))
def test_the_automaton_finds_the_same_as_an_nfa_once_it_switches(
    texts: list[bytes], values: list[bytes], search: tuple[ahocorasick_rs.MatchKind, bool]
) -> None:
    """An automaton that has searched enough becomes a DFA; what it finds, and in which
    order, does not change. (Large values, raced with Hyperscan: test_engine_race.py.)"""
    kind, overlapping = search
    automaton = Automaton(tuple(texts), kind)
    before = [automaton.find_matches_as_indexes(v, overlapping=overlapping) for v in values]
    automaton.find_matches_as_indexes(
        bytes(len(b"".join(texts)) * DFA_AFTER_BYTES_PER_NEEDLE_BYTE + 1)
    )
    assert automaton.engines == ("dfa",)  # small values only: no race
    after = [automaton.find_matches_as_indexes(v, overlapping=overlapping) for v in values]
    reference = nfa_answers(texts, values, search)
    assert before == reference
    assert after == reference


def test_an_automaton_switches_once_it_has_searched_enough() -> None:
    needles = (b"ada@wire.example", b"5550100")
    automaton = Automaton(needles, ahocorasick_rs.MatchKind.Standard)
    enough = DFA_AFTER_BYTES_PER_NEEDLE_BYTE * sum(map(len, needles))
    automaton.find_matches_as_indexes(bytes(enough - 100))
    automaton.find_matches_as_indexes(bytes(100))
    assert automaton.engines == ("nfa",)  # a needle set that searched little never built one
    assert automaton.find_matches_as_indexes(b"x 5550100", overlapping=True) == [(1, 2, 9)]
    assert automaton.engines == ("dfa",)
    assert automaton.find_matches_as_indexes(b"x 5550100", overlapping=True) == [(1, 2, 9)]


@pytest.mark.parametrize("hyperscan", [pytest.param(True, marks=NEEDS_HYPERSCAN), False])
def test_very_many_needles_never_become_a_dfa(hyperscan: bool) -> None:
    """The DFA of so many needles would be too large; Hyperscan's is not: the NFA races it
    over large values, or searches alone without it."""
    needles = tuple(f"{n:08d}".encode() for n in range(DFA_MAX_NEEDLES + 1))
    with mock.patch.object(
        hyperscan_search, "hyperscan", hyperscan_search.hyperscan if hyperscan else None
    ):
        automaton = Automaton(needles, ahocorasick_rs.MatchKind.LeftmostFirst)
        automaton.find_matches_as_indexes(bytes(DFA_AFTER_BYTES_PER_NEEDLE_BYTE * 9 * len(needles)))
    assert automaton.engines == (("nfa", "hyperscan") if hyperscan else ("nfa",))
    assert automaton.find_matches_as_indexes(b"id 00010000") == [(DFA_MAX_NEEDLES, 3, 11)]


def test_hyperscan_searches_from_many_threads_at_once() -> None:
    """Each thread needs scratch space of its own: one shared would be refused as in use."""
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")
    search = hyperscan_search.compiled((b"anna", b"nn"), ahocorasick_rs.MatchKind.Standard)
    assert search is not None
    value = b"xx anna " * 200_000
    expected = search.find_matches_as_indexes(value, overlapping=True)
    assert len(expected) == 400_000
    with ThreadPoolExecutor(4) as pool:
        found = list(
            pool.map(lambda _: search.find_matches_as_indexes(value, overlapping=True), range(8))
        )
    assert found == [expected] * 8
