"""A stream's blocks are marked the same whichever search runs: the needles' automaton
and the encoded-cell test apart (the reference), or Hyperscan's one pass of both."""

from __future__ import annotations

import functools

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from availability import require
from pytest_stexcel_privacy.people.needles import Needle
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import hyperscan_search
from pytest_stexcel_privacy.scan.block_marks import Marks, OnePass, TwoSearches, block_marks
from pytest_stexcel_privacy.scan.copy_stream import (
    COPY_TEXT,
    JOINED,
    LineFormat,
    StreamSearch,
)
from pytest_stexcel_privacy.scan.engine_race import TIMED_BYTES, EngineRace
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher

FORMATS = {"copy": COPY_TEXT, "joined": JOINED}
# A name with letters outside ASCII, whose case ``bytes.lower`` leaves alone.
PEOPLE = [assemble(given="Ann", family="Lee"), assemble(given="Zoë", family="Brontë")]
NEEDLES = NeedleMatcher(n for person in PEOPLE for n in person.needles)


def keys_of(line_format: LineFormat) -> tuple[bytes, ...]:
    """The keys as ``StreamSearch`` gives them."""
    return StreamSearch(NEEDLES, line_format).keys


def separators(line_format: LineFormat) -> bytes:
    return line_format.cell + line_format.line


@functools.cache
def engines(name: str) -> tuple[TwoSearches, OnePass]:
    """Built (and compiled) once, by the first example; not at collection."""
    keys, between = keys_of(FORMATS[name]), separators(FORMATS[name])
    return TwoSearches(keys, between), OnePass(keys, between)


def marked_cells(
    block: bytes, line_format: LineFormat, marks: Marks
) -> tuple[set[tuple[int, int]], set[int]]:
    """The cells holding a needle, as ``(line start, cell number)``; the encoded starts."""
    needles = set()
    for start in marks[0]:
        line = block.rfind(line_format.line, 0, start) + 1
        needles.add((line, block.count(line_format.cell, line, start)))
    return needles, marks[1]


def case_flipped(key: bytes) -> st.SearchStrategy[bytes]:
    """``key`` with bit 0x20 flipped in some bytes: letters change case, and other bytes
    (``@``, a UTF-8 byte) become bytes that a case-insensitive search must not confuse."""
    flips = st.lists(st.booleans(), min_size=len(key), max_size=len(key))
    return flips.map(
        lambda flip: bytes(b ^ 0x20 if f else b for b, f in zip(key, flip, strict=True))
    )


def pieces(line_format: LineFormat) -> st.SearchStrategy[bytes]:
    keys = sorted(keys_of(line_format))
    key = st.sampled_from(keys)
    runs = st.tuples(st.sampled_from(b"0aF9gZ+=_/:-. @\xc3\xab\x8b"), st.integers(1, 70))
    return st.one_of(
        key,
        key.flatmap(case_flipped),
        key.map(lambda k: k[: hyperscan_search.PREFIX_BYTES]),  # a prefix, not the needle
        key.map(lambda k: k[:-1]),
        runs.map(lambda run: bytes([run[0]]) * run[1]),
        st.sampled_from([line_format.cell, line_format.line]),
    )


@pytest.mark.parametrize("name", list(FORMATS))
@given(data=st.data())
def test_one_pass_marks_the_cells_the_two_searches_mark(name: str, data: st.DataObject) -> None:
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")
    line_format = FORMATS[name]
    block = b"".join(data.draw(st.lists(pieces(line_format), max_size=12)))
    two, one = engines(name)
    assert marked_cells(block, line_format, one.find_matches_as_indexes(block)) == marked_cells(
        block, line_format, two.find_matches_as_indexes(block)
    )


@given(st.sampled_from(sorted(keys_of(JOINED))))
@example(keys_of(JOINED)[0])
def test_a_needle_is_marked_in_any_case_by_both(key: bytes) -> None:
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")
    two, one = engines("joined")
    block = b"\x1fx\x1f" + key.upper() + b"\x1e"  # ASCII letters only, as ``bytes.lower``
    assert 3 in two.find_matches_as_indexes(block)[0]
    assert 3 in one.find_matches_as_indexes(block)[0]


def test_one_pass_marks_at_least_the_cells_of_needles_that_overlap() -> None:
    """A needle holding a separator can hide the next match from the leftmost-first
    search; every occurrence is reported by the one pass, so it reads more, never less."""
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")
    keys = (b"ab\x1fcd", b"cdxy")
    block = b"\x1fab\x1fcdxy\x1e"
    two = TwoSearches(keys, separators(JOINED)).find_matches_as_indexes(block)
    one = OnePass(keys, separators(JOINED)).find_matches_as_indexes(block)
    assert two[0] == {1}
    assert one[0] == {1, 4}


def test_large_blocks_race_the_one_pass_and_read_the_same_lines() -> None:
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")
    block_marks.cache_clear()
    search = StreamSearch(NEEDLES, JOINED)
    race = block_marks(keys_of(JOINED), separators(JOINED))
    assert isinstance(race, EngineRace)
    filler = b"".join(b"#%d\x1f%064x\x1e" % (n, n) for n in range(TIMED_BYTES // 60))
    planted = PEOPLE[1].email.upper().encode()
    block = filler + b"#x\x1f" + planted + b"\x1f" + b"QUJD" * 8 + b"\x1e" + filler
    read = [list(search.marked_lines(block)) for _ in range(8)]  # both engines in turn
    assert [type(engine) for engine in race.engines] == [TwoSearches, OnePass]
    assert all(lines == [(b"#x\x1f" + planted + b"\x1f" + b"QUJD" * 8, [1, 2])] for lines in read)


def test_without_hyperscan_the_two_searches_run_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hyperscan_search, "available", lambda: False)
    block_marks.cache_clear()
    try:
        assert isinstance(block_marks(keys_of(JOINED), separators(JOINED)), TwoSearches)
        assert isinstance(block_marks((), separators(JOINED)), TwoSearches)
    finally:
        block_marks.cache_clear()


def test_a_needle_holding_a_separator_is_left_to_the_copy_stream() -> None:
    """It lies in no single joined cell, and left in it hid ``cdxy`` from the two
    searches but not from the one pass: the race's winner decided what was found."""
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")
    matcher = NeedleMatcher(
        [Needle("p", "email", "exact", "ab\x1fcd"), Needle("p", "name", "exact", "cdxy")]
    )
    keys = StreamSearch(matcher, JOINED).keys
    assert keys == (b"cdxy",)
    block = b"\x1fab\x1fcdxy\x1e"
    two = TwoSearches(keys, separators(JOINED)).find_matches_as_indexes(block)
    one = OnePass(keys, separators(JOINED)).find_matches_as_indexes(block)
    assert two[0] == one[0] == {4}
    # the COPY format escapes no byte of these separators: its keys keep every needle
    assert len(StreamSearch(matcher, COPY_TEXT).keys) == 2
