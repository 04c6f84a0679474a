"""A window sliding over a stream, folded for the matcher's search outside the GIL.

Files are searched with the needles folded (``matcher.fold``: bit 0x20 set in every
byte, which lower-cases ASCII letters), and each match checked against the original
bytes (the fold also turns "@" into a backquote). numpy folds a chunk in one pass that
releases the GIL, where ``bytes.lower()`` holds it and runs at about 0.6 GB/s: with
several files searched at once, lower-casing serialised the threads and cost half as
much as the search itself, and so did ``bytes.count`` for line numbers, now numpy's too.
The window keeps the tail of the previous chunk in place, so that a needle across a
chunk boundary is still found without concatenating the chunk to that tail; the
chunk is read straight into it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_FOLD = np.uint8(0x20)
_NEWLINE = np.uint8(ord("\n"))


class FoldedWindow:
    """The last ``overlap`` bytes of the previous chunk, then the chunk: as read, and folded."""

    def __init__(self, chunk_bytes: int, overlap: int) -> None:
        self.overlap = overlap
        self.carried = 0  # bytes at the window's start that came from the previous chunk
        self.size = 0
        self._original = np.empty(overlap + chunk_bytes, np.uint8)
        self._folded = np.empty_like(self._original)
        self._flags = np.empty(len(self._original), np.bool_)

    def fill(self, readinto: Callable[[memoryview], int]) -> memoryview | None:
        """The folded window after the next chunk, which ``readinto`` reads straight into
        it after the kept tail (no copy of its own); None at the end of the stream."""
        keep = min(self.overlap, self.size)
        if keep:
            self._original[:keep] = self._original[self.size - keep : self.size]
            self._folded[:keep] = self._folded[self.size - keep : self.size]
        read = readinto(self._original[keep:].data)
        if not read:
            return None
        end = keep + read
        np.bitwise_or(self._original[keep:end], _FOLD, out=self._folded[keep:end])
        self.carried, self.size = keep, end
        return self._folded[:end].data

    def original(self, start: int, stop: int) -> bytes:
        """The window's bytes from ``start`` to ``stop`` as they were read."""
        return self._original[start:stop].tobytes()

    def newlines(self, start: int, stop: int) -> int:
        """How many newlines the window holds between ``start`` and ``stop``."""
        if stop <= start:
            return 0
        flags = self._flags[: stop - start]
        np.equal(self._original[start:stop], _NEWLINE, out=flags)
        return int(np.count_nonzero(flags))
