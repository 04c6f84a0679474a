"""Where a block of a stream's lines holds a needle, and where a cell that may be
encoded starts: two searches, or one Hyperscan pass doing both, raced.

Why: a block (``copy_stream.StreamSearch``) was lower-cased (a copy made with the GIL
held) and searched twice, for the needles and for cells that may be encoded. One
Hyperscan database of both, the needles' prefixes matched in either case, searches the
block as it is: over hex rows 2.1 ms of CPU a MB against 2.9, over customers 1.5 against
1.8 (``benchmarks/block_marks.py``). Its prefix matches are checked against the needles
in Python, so rows full of needles' prefixes cost it a step per occurrence (57 ms a MB
against 14): the race (``engine_race.py``) then keeps the two searches (17 in all), as
it times both on every kind of data a scan reads.

The one pass reports every occurrence of a needle, the two searches leftmost-first
matches without overlaps: its needle starts include theirs, so it marks at least the
cells they mark; where no needle holds a separator, no match crosses a cell and both
mark the same cells. Only the cells are used. The cells that may be encoded are the
same expressions either way (``encoded_cells.py``), found at the same offsets.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from . import hyperscan_search
from .encoded_cells import EncodedCells, hyperscan_patterns
from .engine_race import Engine, EngineRace
from .hyperscan_search import PREFIX_BYTES
from .matcher import presence_automaton

if TYPE_CHECKING:
    from typing_extensions import Buffer

Marks = tuple[set[int], set[int]]  # where needles start; where cells that may be encoded start


def _bytes(haystack: Buffer) -> bytes:
    return haystack if isinstance(haystack, bytes) else bytes(haystack)


class TwoSearches:
    """The needles' presence automaton over the block lower-cased, then the encoded-cell
    test: what every installation has."""

    def __init__(self, keys: tuple[bytes, ...], separators: bytes) -> None:
        self._needles = presence_automaton(keys) if keys else None
        self._cells = EncodedCells(separators)

    def find_matches_as_indexes(self, haystack: Buffer, overlapping: bool = False) -> Marks:
        block = _bytes(haystack)
        needles: set[int] = set()
        if self._needles is not None:
            found = self._needles.find_matches_as_indexes(block.lower(), overlapping=False)
            needles.update(start for _, start, _ in found)
        return needles, self._cells.starts(block)


class OnePass:
    """Both searches as one Hyperscan database: the needles' first ``PREFIX_BYTES`` bytes
    in either case, then the encoded-cell expressions. Raises ``hyperscan_search.Error``
    where Hyperscan cannot compile them."""

    def __init__(self, keys: tuple[bytes, ...], separators: bytes) -> None:
        by_prefix: dict[bytes, dict[int, set[bytes]]] = {}
        for key in keys:
            by_prefix.setdefault(key[:PREFIX_BYTES], {}).setdefault(len(key), set()).add(key)
        # per prefix pattern: its length, and the needles starting with it by their lengths
        # (one comparison per length: a prefix may start a hundred needles)
        self._owners = [(len(prefix), owners) for prefix, owners in by_prefix.items()]
        cells = hyperscan_patterns(separators)
        self._cell_lengths = [length for _, length in cells]
        expressions = [hyperscan_search.escaped(prefix) for prefix in by_prefix]
        expressions += [pattern for pattern, _ in cells]
        flags = [hyperscan_search.CASELESS] * len(by_prefix) + [0] * len(cells)
        self._compiled = hyperscan_search.Compiled(expressions, literal=False, flags=flags)

    def find_matches_as_indexes(self, haystack: Buffer, overlapping: bool = False) -> Marks:
        block = _bytes(haystack)
        needles: set[int] = set()
        cells: set[int] = set()
        first_cell = len(self._owners)
        for pattern, end in self._compiled.ends(block):
            if pattern >= first_cell:
                # the separator before the cell may be the previous line's end: after it
                cells.add(end - self._cell_lengths[pattern - first_cell] + 1)
                continue
            length, owners = self._owners[pattern]
            start = end - length
            # Hyperscan's case may fold more than ``bytes.lower`` does: compared as the
            # two searches compare
            for size, sized in owners.items():
                if block[start : start + size].lower() in sized:
                    needles.add(start)
                    break
        return needles, cells


@functools.lru_cache(maxsize=8)
def block_marks(keys: tuple[bytes, ...], separators: bytes) -> Engine[Marks]:
    """The search for blocks of lines separated by ``separators`` (a cell's, a line's),
    for lower-cased ``keys``: built once per needle set and line format, since a scan
    searches every table with it and the one pass takes 0.12 s to compile (5,300
    needles), when the first block large enough to race comes."""
    two = TwoSearches(keys, separators)
    if not keys or not hyperscan_search.available():
        return two
    one_pass = functools.partial(_one_pass, keys, separators)
    return EngineRace(two, one_pass, hyperscan_search.searchable)


def _one_pass(keys: tuple[bytes, ...], separators: bytes) -> OnePass | None:
    try:
        return OnePass(keys, separators)
    except hyperscan_search.Error:
        return None
