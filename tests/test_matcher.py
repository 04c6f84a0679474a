"""The needle matcher against a naive search: every match, whatever the search's shortcuts.

The matcher asks a leftmost-first automaton first whether a value holds any
needle at all, and searches overlapping matches only where it does; file
chunks are searched folded ("@" and "`" alike) and checked against the bytes
as they were. None of that may lose a match: a needle inside another, two
needles sharing bytes, a match a folded look-alike would overlap.
"""

from __future__ import annotations

import ahocorasick_rs
from hypothesis import given
from hypothesis import strategies as st

from pytest_stexcel_privacy.people.needles import Needle
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


KINDS = [ahocorasick_rs.MatchKind.Standard, ahocorasick_rs.MatchKind.LeftmostFirst]


@given(
    st.lists(keys, min_size=1, max_size=6, unique=True),
    st.lists(data, min_size=1, max_size=8),
    st.sampled_from(KINDS),
)
def test_the_automaton_finds_the_same_as_an_nfa_and_as_a_dfa(
    texts: list[bytes], values: list[bytes], kind: ahocorasick_rs.MatchKind
) -> None:
    """An automaton that has searched enough becomes a DFA; what it finds does not change
    (the library's NFA, never switched, is the reference)."""
    automaton = Automaton(tuple(texts), kind)
    nfa = ahocorasick_rs.BytesAhoCorasick(
        texts, matchkind=kind, implementation=ahocorasick_rs.Implementation.ContiguousNFA
    )
    overlapping = kind == ahocorasick_rs.MatchKind.Standard
    reference = [nfa.find_matches_as_indexes(v, overlapping=overlapping) for v in values]
    before = [automaton.find_matches_as_indexes(v, overlapping=overlapping) for v in values]
    automaton.find_matches_as_indexes(
        bytes(len(b"".join(texts)) * DFA_AFTER_BYTES_PER_NEEDLE_BYTE + 1)
    )
    assert automaton.is_dfa
    after = [automaton.find_matches_as_indexes(v, overlapping=overlapping) for v in values]
    assert before == reference
    assert after == reference


def test_an_automaton_becomes_a_dfa_once_it_has_searched_enough() -> None:
    needles = (b"ada@wire.example", b"5550100")
    automaton = Automaton(needles, ahocorasick_rs.MatchKind.Standard)
    enough = DFA_AFTER_BYTES_PER_NEEDLE_BYTE * sum(map(len, needles))
    automaton.find_matches_as_indexes(bytes(enough - 100))
    automaton.find_matches_as_indexes(bytes(100))
    assert not automaton.is_dfa  # a needle set that searched little never built one
    assert automaton.find_matches_as_indexes(b"x 5550100", overlapping=True) == [(1, 2, 9)]
    assert automaton.is_dfa
    assert automaton.find_matches_as_indexes(b"x 5550100", overlapping=True) == [(1, 2, 9)]


def test_very_many_needles_never_become_a_dfa() -> None:
    needles = tuple(f"{n:08d}".encode() for n in range(DFA_MAX_NEEDLES + 1))
    automaton = Automaton(needles, ahocorasick_rs.MatchKind.LeftmostFirst)
    automaton.find_matches_as_indexes(bytes(DFA_AFTER_BYTES_PER_NEEDLE_BYTE * 9 * len(needles)))
    assert not automaton.is_dfa
    assert automaton.find_matches_as_indexes(b"id 00010000") == [(DFA_MAX_NEEDLES, 3, 11)]
