"""Multi-pattern search of bytes for every needle at once (Aho-Corasick, Hyperscan).

The automaton (``ahocorasick_rs``, Rust) works on bytes, so any byte
sequence (invalid UTF-8, NUL bytes, binary blobs) is searched as it is.
ASCII letters are lower-cased on both sides, which makes the search
ASCII-case-insensitive. Matches overlap: a needle inside another is found too.

The automaton starts as the library's contiguous NFA and becomes a DFA (2 to
5 times faster to search, 4 to 6 times slower to build) once it has searched
enough to pay for building one (:class:`Automaton`): most needle sets search a
few kilobytes (one deletion run's people, scanned twice), some search
hundreds of megabytes (a state machine scanning after every step, a large
store). Values of 64 kB and more (a file's chunk, a block of rows) are then
also searched by Hyperscan where it is installed (``hyperscan_search.py``), the
faster of the two going on (``engine_race.py``); small values stay with the DFA,
which answers them sooner (the README's main job, replayed: 0.53 s of automata
against 0.71 to 0.89 s with Hyperscan for every value). With so many needles
that the DFA's memory would grow large (about 3.5 kB per needle), there is no
DFA: the NFA stays, racing Hyperscan over large values.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import ahocorasick_rs

from ..people.needles import FORM_RANK, Needle
from . import hyperscan_search
from .engine_race import Engine, EngineRace, Matches

if TYPE_CHECKING:
    from typing_extensions import Buffer

# Above this many distinct needles, the NFA's smaller memory wins over speed.
DFA_MAX_NEEDLES = 10_000
# An automaton becomes a DFA once it has searched this many bytes per byte of its needles:
# about where the NFA's slower search has cost as much as building the DFA does (a DFA
# took about 0.5 us a needle byte to build; the NFA's overlapping search of text about
# 7 ns a byte more). Whatever the data, the NFA's head start then costs at most a few
# DFA builds, and a needle set that searches little never pays for one: the README's
# main job spends half the time it did in its automata (benchmarks/matcher_build.py).
DFA_AFTER_BYTES_PER_NEEDLE_BYTE = 64


Group = tuple[Needle, ...]  # the needles of one key
_FOLDED = bytes(byte | 0x20 for byte in range(256))


def fold(data: bytes) -> bytes:
    """``data`` with bit 0x20 set in every byte: ASCII letters lower-cased in one
    operation (numpy's, for large data), and a few other bytes made alike ("@" and "`")."""
    return data.translate(_FOLDED)


@functools.lru_cache(maxsize=8)
def needle_automaton(keys: tuple[bytes, ...]) -> Automaton:
    """Built once for a set of needles: a state machine scans after every step, for much
    the same people each time."""
    return Automaton(keys, ahocorasick_rs.MatchKind.Standard)


@functools.lru_cache(maxsize=8)
def presence_automaton(keys: tuple[bytes, ...]) -> Automaton:
    """For asking *where* some needle starts, not which ones: leftmost-first matches, not
    overlapping: up to a quarter faster than ``needle_automaton`` (5,300 needles). Of values
    joined by a byte no needle contains (rows, cells, lines), each holding a needle still
    shows a match start, as the search goes on after each match's end; a needle inside
    another's match may not show."""
    return Automaton(keys, ahocorasick_rs.MatchKind.LeftmostFirst)


class Automaton:
    """One needle set's automaton: an NFA until it has searched enough to pay for a faster
    engine, then the library's DFA (the NFA still, for too many needles), racing Hyperscan
    over large values. All find exactly the same matches, in the same order (the
    library's implementations differ only in speed and memory; Hyperscan's answers are
    put in their form), so when the switch happens, and which engine searched, never
    changes a verdict.

    Searched from several threads at once; the faster engine is built once, by the first
    search to cross the threshold, while the others go on with the NFA.
    """

    def __init__(self, keys: tuple[bytes, ...], kind: ahocorasick_rs.MatchKind) -> None:
        self.keys = keys
        self.kind = kind
        self._nfa = ahocorasick_rs.BytesAhoCorasick(
            list(keys),
            implementation=None
            if self._too_many_for_a_dfa
            else ahocorasick_rs.Implementation.ContiguousNFA,
            matchkind=kind,
        )
        self._current: Engine[Matches] = self._nfa
        self._searched = 0  # bytes, counted without a lock: it only decides when to switch
        self._switch_after = DFA_AFTER_BYTES_PER_NEEDLE_BYTE * sum(map(len, keys))
        self._switching = threading.Lock()

    @property
    def _too_many_for_a_dfa(self) -> bool:
        return len(self.keys) > DFA_MAX_NEEDLES

    @property
    def engines(self) -> tuple[str, ...]:
        """The engines searching now: the NFA before the switch; then the DFA (the NFA, for
        too many needles), and Hyperscan beside it once a value large enough to race came
        and Hyperscan could compile the needles."""
        current = self._current
        if not isinstance(current, EngineRace):
            return ("nfa",)
        return tuple(
            "nfa" if engine is self._nfa else "dfa" if engine is current.engines[0] else "hyperscan"
            for engine in current.engines
        )

    def find_matches_as_indexes(
        self, haystack: Buffer, overlapping: bool = False
    ) -> list[tuple[int, int, int]]:
        """``(needle index, start, end)`` of each match, as the library gives them."""
        if self._current is self._nfa:
            self._searched += len(memoryview(haystack))
            if self._searched > self._switch_after:
                self._switch()
        return self._current.find_matches_as_indexes(haystack, overlapping=overlapping)

    def _switch(self) -> None:
        if not self._switching.acquire(blocking=False):
            return  # another thread is building it
        try:
            if self._current is self._nfa:
                # Hyperscan only where it may win: built at the first large value
                first = self._nfa if self._too_many_for_a_dfa else self._dfa()
                self._current = EngineRace(first, self._hyperscan, hyperscan_search.searchable)
        finally:
            self._switching.release()

    def _hyperscan(self) -> hyperscan_search.HyperscanSearch | None:
        return hyperscan_search.compiled(self.keys, self.kind)

    def _dfa(self) -> ahocorasick_rs.BytesAhoCorasick:
        return ahocorasick_rs.BytesAhoCorasick(
            list(self.keys), implementation=ahocorasick_rs.Implementation.DFA, matchkind=self.kind
        )


class NeedleMatcher:
    def __init__(self, needles: Iterable[Needle]) -> None:
        grouped: dict[bytes, list[Needle]] = defaultdict(list)
        for needle in needles:
            grouped[needle.key].append(needle)
        self.needles: tuple[Needle, ...] = tuple(n for group in grouped.values() for n in group)
        self.longest = max((len(key) for key in grouped), default=0)
        self.keys: tuple[bytes, ...] = tuple(grouped)  # what is searched, each once
        self._groups = [tuple(group) for group in grouped.values()]
        self._folded_search: tuple[Automaton, list[list[tuple[bytes, Group]]]] | None = None
        self._folded_lock = threading.Lock()
        self._automaton = needle_automaton(self.keys) if grouped else None
        # A byte no needle contains, to search many values joined by it (``holding``).
        self._separator = next(
            (b for b in (b"\n", b"\x00", b"\xff", b"\x1e") if not any(b in k for k in grouped)),
            None,
        )
        # What was searched, for the report's coverage; scanners search from threads.
        self.values_searched = 0
        self.bytes_searched = 0
        self._count_lock = threading.Lock()
        self._tallies = threading.local()  # per thread: what a ``tally`` block searched

    @functools.cached_property
    def _presence(self) -> Automaton | None:
        """``presence_automaton`` of the keys, built on first use: most matchers never ask."""
        return presence_automaton(self.keys) if self.keys else None

    def searched(self) -> tuple[int, int]:
        """``(values, bytes)`` searched so far."""
        with self._count_lock:
            return self.values_searched, self.bytes_searched

    def count_searched(self, values: int, size: int) -> None:
        """Count what was searched without ``search`` (a stream searched as a whole)."""
        with self._count_lock:
            self.values_searched += values
            self.bytes_searched += size
        tally = getattr(self._tallies, "tally", None)
        if tally is not None:
            tally[0] += values
            tally[1] += size

    @contextmanager
    def tally(self) -> Iterator[list[int]]:
        """What this thread searches inside the block, ``[values, bytes]``, beside the
        totals: what a search skipped next time (its value found clean) still counts."""
        outer = getattr(self._tallies, "tally", None)
        self._tallies.tally = tally = [0, 0]
        try:
            yield tally
        finally:
            self._tallies.tally = outer
            if outer is not None:
                outer[0] += tally[0]
                outer[1] += tally[1]

    def __bool__(self) -> bool:
        return bool(self.needles)

    def search(self, data: bytes) -> Iterator[tuple[int, tuple[Needle, ...]]]:
        """Yield ``(start offset, needles)`` for every match in ``data``."""
        if self._automaton is None:
            return
        self.count_searched(1, len(data))
        for index, start, _ in self._automaton.find_matches_as_indexes(
            data.lower(), overlapping=True
        ):
            yield start, self._groups[index]

    def search_folded(
        self, folded: Buffer, original: Callable[[int, int], bytes]
    ) -> Iterator[tuple[int, tuple[Needle, ...]]]:
        """``search`` of data that was ``fold``-ed (a file's chunks, outside the GIL:
        ``folded_window.py``); ``original(start, stop)`` gives back the bytes as they
        were, to drop the matches only the fold made ("@" for a backquote)."""
        if self._automaton is None:
            return
        automaton, candidates = self._folded()
        self.count_searched(1, len(memoryview(folded)))
        for index, start, stop in automaton.find_matches_as_indexes(folded, overlapping=True):
            text = original(start, stop).lower()
            for key, group in candidates[index]:
                if text == key:
                    yield start, group

    def _folded(self) -> tuple[Automaton, list[list[tuple[bytes, Group]]]]:
        """The automaton of the folded needles, built on first use, and the needles (by
        key) each of its patterns may be."""
        with self._folded_lock:
            if self._folded_search is None:
                by_folded: dict[bytes, list[tuple[bytes, Group]]] = defaultdict(list)
                for key, group in zip(self.keys, self._groups, strict=True):
                    by_folded[fold(key)].append((key, group))
                self._folded_search = (needle_automaton(tuple(by_folded)), list(by_folded.values()))
            return self._folded_search

    def holding(self, parts: Sequence[bytes]) -> list[bool]:
        """Whether each of ``parts`` holds a needle, found by one search of them all
        joined (one call instead of one per part) by a byte no needle contains."""
        if self._automaton is None or self._separator is None:
            return [self.matches(part) for part in parts]
        joined = self._separator.join(parts).lower()
        self.count_searched(len(parts), len(joined) - len(parts) + 1 if parts else 0)
        held = [False] * len(parts)
        assert self._presence is not None
        found = self._presence.find_matches_as_indexes(joined, overlapping=False)
        if found:  # where each part ends, only then: most batches hold no needle
            ends = list(itertools.accumulate(len(part) + 1 for part in parts))
            for _, start, _ in found:
                held[bisect.bisect_right(ends, start)] = True
        return held

    def found_in(self, text: bytes) -> bool:
        """Whether ``text``, already lower-cased, holds a needle. Not counted: the caller
        counts what it searched (``count_searched``), once for many calls."""
        if self._presence is None:
            return False
        return bool(self._presence.find_matches_as_indexes(text, overlapping=False))

    def strongest(self, data: bytes) -> Needle | None:
        """The most specific needle found in ``data`` (exact before encodings and canaries)."""
        found = [needle for _, group in self.search(data) for needle in group]
        return min(found, key=lambda n: FORM_RANK[n.form]) if found else None

    def matches(self, data: bytes) -> bool:
        return next(self.search(data), None) is not None

    def matches_any(self, values: Sequence[bytes]) -> bool:
        """Whether any of ``values`` holds a needle (one search of them all)."""
        return any(self.holding(values))
