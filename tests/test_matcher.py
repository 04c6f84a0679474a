"""The needle matcher against a naive search: every match, whatever the search's shortcuts.

The matcher asks a leftmost-first automaton first whether a value holds any
needle at all, and searches overlapping matches only where it does; file
chunks are searched folded ("@" and "`" alike) and checked against the bytes
as they were. None of that may lose a match: a needle inside another, two
needles sharing bytes, a match a folded look-alike would overlap.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pytest_stexcel_privacy.people.needles import Needle
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher, fold

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
