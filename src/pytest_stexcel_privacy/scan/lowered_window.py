"""A window sliding over a stream, its ASCII letters lower-cased outside the GIL.

The matcher's automaton holds lower-cased needles, so data is lower-cased
before the search. ``bytes.lower()`` holds the GIL and runs at about 0.6 GB/s:
with several files searched at once it serialised the threads and cost half
as much as the search itself, and so did ``bytes.count`` for line numbers.
numpy's ufuncs release the GIL and do both at several GB/s, into buffers
allocated once per stream. The window keeps the tail of the previous chunk in
place, so that a needle across a chunk boundary is still found without
concatenating the chunk to that tail.
"""

from __future__ import annotations

import numpy as np

_A = np.uint8(ord("A"))
_LETTERS = np.uint8(26)
_TO_LOWER = np.uint8(ord("a") - ord("A"))
_NEWLINE = np.uint8(ord("\n"))


class LoweredWindow:
    """The last ``overlap`` bytes of the previous chunk, then the chunk; lower-cased."""

    def __init__(self, chunk_bytes: int, overlap: int) -> None:
        self.overlap = overlap
        self.carried = 0  # bytes at the window's start that came from the previous chunk
        self.size = 0
        self._window = np.empty(overlap + chunk_bytes, np.uint8)
        self._allocate(chunk_bytes)

    def _allocate(self, chunk_bytes: int) -> None:
        """Buffers for chunks of up to ``chunk_bytes``, the window's bytes kept."""
        window = np.empty(self.overlap + chunk_bytes, np.uint8)
        window[: self.size] = self._window[: self.size]
        self._window = window
        self._scratch = np.empty(chunk_bytes, np.uint8)
        self._flags = np.empty(len(window), np.bool_)

    def push(self, chunk: bytes) -> memoryview:
        """The window after ``chunk``: the kept tail, then ``chunk`` lower-cased."""
        keep = min(self.overlap, self.size)
        if keep:
            self._window[:keep] = self._window[self.size - keep : self.size]
        if len(chunk) > len(self._scratch):  # a decoded stream may give more than asked
            self.size = keep
            self._allocate(len(chunk))
        raw = np.frombuffer(chunk, np.uint8)
        scratch = self._scratch[: len(raw)]
        upper = self._flags[: len(raw)]
        np.subtract(raw, _A, out=scratch)  # wraps below "A": only letters stay under 26
        np.less(scratch, _LETTERS, out=upper)
        np.multiply(upper.view(np.uint8), _TO_LOWER, out=scratch)
        np.bitwise_or(raw, scratch, out=self._window[keep : keep + len(raw)])
        self.carried, self.size = keep, keep + len(raw)
        return self._window[: self.size].data

    def newlines(self, start: int, stop: int) -> int:
        """How many newlines the window holds between ``start`` and ``stop``."""
        if stop <= start:
            return 0
        flags = self._flags[: stop - start]
        np.equal(self._window[start:stop], _NEWLINE, out=flags)
        return int(np.count_nonzero(flags))
