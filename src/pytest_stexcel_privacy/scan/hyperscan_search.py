"""The needles compiled by Hyperscan: the fastest search, where it is installed.

Hyperscan (Intel's SIMD literal matcher) finds every occurrence of every needle in a
large value two to seven times faster than the Aho-Corasick DFA, over log lines, rows
and hex strings alike, and releases the GIL while it searches. It is optional (the ``fast`` extra):
its wheels cover x86-64 Linux with glibc, macOS and Windows. Where it is missing, or
cannot compile the needles (a CPU without SSSE3, a resource limit), ``compiled``
answers None and the automaton stays with the DFA, which finds the same matches.

Hyperscan is given each needle's first ``PREFIX_BYTES`` bytes, not the whole needle,
and a match of a prefix counts once the needle's other bytes are compared. Its
literal matcher hashes the last bytes of each pattern, so needles that end alike
(every e-mail address at one domain, base64 of values ending alike) are each checked
wherever data holds that ending: over a table of customers mailed at the needles'
domain, whole needles searched four times slower than the DFA; their prefixes, seven
times faster (the hex table too). Data full of a needle's prefix but not the needle
costs a comparison per occurrence; the engine race (``engine_race.py``) then lets the
DFA search instead.

Hyperscan reports each match by its end; a prefix's start is that end less its
length. It reports every occurrence, which is the DFA's overlapping search; the
other two match kinds are worked out from those (``_standard``, ``_leftmost_first``),
so the automaton gives the same list whichever engine searched.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, cast

import ahocorasick_rs

try:
    import hyperscan
except ImportError:  # not installed: the DFA searches
    hyperscan = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from typing_extensions import Buffer

Match = tuple[int, int, int]  # (needle index, start, end), as ahocorasick_rs gives them

# Long enough that a prefix rarely occurs where its needle does not (8, 12 and 16
# searched alike over ERP rows, hex strings and look-alikes; 12 had the fewest misses).
PREFIX_BYTES = 12
# hs_scan takes the length as a 32-bit unsigned int, and the binding passes a longer
# one cut to its low 32 bits: the data past them would go unsearched. Values this long
# go to the DFA (``searchable``); ``Compiled.ends`` refuses them.
LONGEST_SCAN = 2**31


def searchable(haystack: Buffer) -> bool:
    """Whether Hyperscan can search all of ``haystack``."""
    return len(memoryview(haystack)) < LONGEST_SCAN


def available() -> bool:
    return hyperscan is not None


# What Hyperscan raises when it cannot compile (only where it is installed).
Error: type[Exception] = hyperscan.error if hyperscan is not None else Exception
# A pattern's flag: ASCII letters match in either case.
CASELESS: int = hyperscan.HS_FLAG_CASELESS if hyperscan is not None else 0


def compiled(keys: tuple[bytes, ...], kind: ahocorasick_rs.MatchKind) -> HyperscanSearch | None:
    """``keys`` compiled for a search of ``kind``, or None where Hyperscan cannot."""
    if hyperscan is None or kind not in _KINDS:
        return None
    try:
        return HyperscanSearch(keys, kind)
    except Error:
        return None


class Compiled:
    """Patterns compiled by Hyperscan, searched from several threads at once: each thread
    gets its own scratch space, as Hyperscan requires."""

    def __init__(
        self, expressions: list[bytes], literal: bool, flags: list[int] | None = None
    ) -> None:
        """``flags``: each expression's (``CASELESS``), none by default."""
        assert hyperscan is not None
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(
            expressions=expressions,
            ids=list(range(len(expressions))),
            elements=len(expressions),
            flags=flags or [0] * len(expressions),
            literal=literal,
        )
        self._scratch = threading.local()

    def ends(self, haystack: Buffer) -> list[tuple[int, int]]:
        """``(pattern index, end)`` of every match, in order of their ends."""
        if not searchable(haystack):
            raise ValueError(f"Hyperscan cannot search {len(memoryview(haystack)):,} bytes at once")
        found: list[tuple[int, int]] = []
        scratch = getattr(self._scratch, "scratch", None)
        if scratch is None:
            scratch = self._scratch.scratch = hyperscan.Scratch(self._database)
        self._database.scan(
            cast(bytes, haystack), match_event_handler=_collect, context=found, scratch=scratch
        )
        return found


def escaped(data: bytes) -> bytes:
    """``data`` as a Hyperscan pattern that matches it alone: every byte escaped."""
    return b"".join(b"\\x%02x" % byte for byte in data)


class HyperscanSearch:
    """The needles' search by Hyperscan, answering as ``ahocorasick_rs`` does."""

    def __init__(self, keys: tuple[bytes, ...], kind: ahocorasick_rs.MatchKind) -> None:
        self.kind = kind
        by_prefix: dict[bytes, dict[int, dict[bytes, list[int]]]] = {}
        for index, key in enumerate(keys):
            sized = by_prefix.setdefault(key[:PREFIX_BYTES], {}).setdefault(len(key), {})
            sized.setdefault(key, []).append(index)
        prefixes = list(by_prefix)
        # per prefix: its length, and the needles starting with it (their indexes, by
        # length and key: one look-up per length, where a prefix may start a hundred needles)
        self._owners = [(len(prefix), by_prefix[prefix]) for prefix in prefixes]
        if any(b"\0" in prefix for prefix in prefixes):
            # The binding passes pure literals as C strings (cut at a NUL byte): such
            # prefixes are given as patterns of escaped bytes instead, which match the same.
            self._compiled = Compiled([escaped(prefix) for prefix in prefixes], literal=False)
        else:
            self._compiled = Compiled(prefixes, literal=True)

    def find_matches_as_indexes(self, haystack: Buffer, overlapping: bool = False) -> list[Match]:
        """What ``ahocorasick_rs.BytesAhoCorasick`` of the same keys and kind answers (and
        refuses: an overlapping search of another kind than Standard)."""
        if overlapping and self.kind != ahocorasick_rs.MatchKind.Standard:
            raise ValueError(f"match kind {self.kind} does not support overlapping searches")
        ends = self._compiled.ends(haystack)
        every: list[Match] = []
        if ends:
            view = memoryview(haystack).cast("B")  # compared as bytes, whatever its format
            for prefix, end in ends:
                length, owners = self._owners[prefix]
                start = end - length
                for size, sized in owners.items():
                    stop = start + size
                    for index in sized.get(view[start:stop].tobytes(), ()):
                        every.append((index, start, stop))
        if overlapping:
            every.sort(key=_by_end)
            return every
        if self.kind == ahocorasick_rs.MatchKind.Standard:
            return _standard(every)
        return _leftmost_first(every)


def _collect(index: int, _start: int, end: int, _flags: int, found: object) -> None:
    cast(list[tuple[int, int]], found).append((index, end))


def _by_end(match: Match) -> tuple[int, int]:
    """The DFA's order: by end, the longer of two ending together first."""
    return match[2], match[1]


def _standard(every: list[Match]) -> list[Match]:
    """The Standard kind without overlaps: the first match to end (the longest of those
    ending there), then the first to end after it that starts after that end, and so on."""
    every.sort(key=_by_end)
    return _greedy(every)


def _leftmost_first(every: list[Match]) -> list[Match]:
    """Leftmost-first: the match starting first (of those starting together, the needle
    listed first), then the same after its end, and so on."""
    every.sort(key=lambda match: (match[1], match[0]))
    return _greedy(every)


def _greedy(ordered: list[Match]) -> list[Match]:
    chosen: list[Match] = []
    resume = 0
    for match in ordered:
        if match[1] >= resume:
            chosen.append(match)
            resume = match[2]
    return chosen


_KINDS = (ahocorasick_rs.MatchKind.Standard, ahocorasick_rs.MatchKind.LeftmostFirst)
