"""Two search engines that find the same matches, raced on the data they search.

Over large values, Hyperscan found the needles two to seven times faster than the
Aho-Corasick DFA on every benchmark's data, but how fast it is depends on the data:
its literal matcher checks each needle wherever the data holds what it hashes the
needle by (its prefix here; whole needles, hashed by their endings, made it four times
slower than the DFA over customers mailed at the needles' domain). So over values
large enough to time, both search in turn, timed by the thread's own CPU clock (what
other threads do does not count), and the faster per byte goes on. The loser is tried
again now and then, since one scan reads many kinds of data. Small values go to the
first engine (the DFA), which answers them sooner. Both answer the same
(tests/test_matcher.py; a stream block's two searches and one pass mark the same
cells: tests/test_block_marks.py), so the race decides only how fast a scan is, never
what it finds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from typing_extensions import Buffer

# Only values at least this large are timed: a small one's time is mostly the call's.
TIMED_BYTES = 64 * 1024
# Each engine searches this many timed values before the faster is chosen.
ROUNDS = 3
# After the choice, the other engine searches a timed value again after this many,
# twice as many after each time it loses again, up to ``RETRY_MOST``, and after this many
# again once it wins. A loser four times slower costs a fifth more at first, then under
# 1 % more.
RETRY_EVERY = 16
RETRY_MOST = 32 * RETRY_EVERY


Found = TypeVar("Found")  # what both engines answer
Found_co = TypeVar("Found_co", covariant=True)
Matches = list[tuple[int, int, int]]  # (needle index, start, end), as ahocorasick_rs gives them


class Engine(Protocol[Found_co]):
    def find_matches_as_indexes(self, haystack: Buffer, overlapping: bool = False) -> Found_co: ...


class EngineRace(Generic[Found]):
    """The first engine, then both in a race over values large enough to time, once one
    comes: the second is built only then (most needle sets search only small values, and
    building costs more than it would save them), if it can be (None: the first searches
    alone). Values too small to time always go to the first.

    Each engine's speed is its CPU nanoseconds per byte, averaged over its recent values
    (each new one weighs half). A retried engine's speed is its retry alone, so that one
    value of the data now searched can change the choice.

    Searched from several threads at once; the figures are kept without a lock, since a
    lost update only delays a choice.
    """

    def __init__(
        self,
        first: Engine[Found],
        build_second: Callable[[], Engine[Found] | None],
        second_can_search: Callable[[Buffer], bool] = lambda haystack: True,
    ) -> None:
        """``second_can_search``: whether the second can search a value at all (Hyperscan
        not one of 2 GB); the first searches the others."""
        self.engines: tuple[Engine[Found], ...] = (first,)
        self._build_second: Callable[[], Engine[Found] | None] | None = build_second
        self._second_can_search = second_can_search
        self._building = threading.Lock()
        self._rounds = [0, 0]  # timed values each engine searched
        self._speeds = [0.0, 0.0]  # ns per byte, recent values weighing most
        self._until_retry = RETRY_EVERY
        self._retry_every = RETRY_EVERY
        self._retried: int | None = None  # the engine retried, until its value is timed

    @property
    def leader(self) -> int:
        """The engine now searching (its index): the faster per byte lately."""
        return 0 if self._speeds[0] <= self._speeds[1] else 1

    def find_matches_as_indexes(self, haystack: Buffer, overlapping: bool = False) -> Found:
        size = len(memoryview(haystack))
        if size < TIMED_BYTES or not self._second_can_search(haystack):
            return self.engines[0].find_matches_as_indexes(haystack, overlapping)
        if self._build_second is not None:
            self._second_engine()
        if len(self.engines) == 1:
            return self.engines[0].find_matches_as_indexes(haystack, overlapping)
        which = self._next_timed()
        started = time.thread_time_ns()
        found = self.engines[which].find_matches_as_indexes(haystack, overlapping)
        speed = (time.thread_time_ns() - started) / size
        rounds = self._rounds[which]
        self._rounds[which] += 1
        if which == self._retried:
            self._retried = None
            self._speeds[which] = speed
            # lost again: asked less often; won: asked as often as at first
            lost = self.leader != which
            self._retry_every = min(2 * self._retry_every, RETRY_MOST) if lost else RETRY_EVERY
            self._until_retry = self._retry_every
        else:
            self._speeds[which] = speed if not rounds else (self._speeds[which] + speed) / 2
        return found

    def _next_timed(self) -> int:
        """The engine for the next timed value: each in turn until both have had
        ``ROUNDS``, then the leader, and now and then the other."""
        if min(self._rounds) < ROUNDS:
            return 0 if self._rounds[0] <= self._rounds[1] else 1
        self._until_retry -= 1
        if self._until_retry > 0 or self._retried is not None:
            return self.leader
        self._retried = 1 - self.leader
        return self._retried

    def _second_engine(self) -> None:
        if not self._building.acquire(blocking=False):
            return  # another thread is building it; this one searches with the first
        try:
            build, self._build_second = self._build_second, None
            second = build() if build is not None else None
            if second is not None:
                self.engines = (self.engines[0], second)
        finally:
            self._building.release()
