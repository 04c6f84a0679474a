"""The file scanner's folded window: every byte with 0x20 set, the original kept."""

from __future__ import annotations

import io

import pytest

from pytest_stexcel_privacy.scan.decoders import Peeked
from pytest_stexcel_privacy.scan.folded_window import FoldedWindow
from pytest_stexcel_privacy.scan.matcher import fold


def test_every_byte_is_folded_as_the_needles_are() -> None:
    data = bytes(range(256)) * 3
    window = FoldedWindow(chunk_bytes=1024, overlap=4)
    folded = window.fill(io.BytesIO(data).readinto)
    assert folded is not None
    assert folded.tobytes() == fold(data)
    assert window.original(0, window.size) == data


def test_tail_of_previous_chunk_is_kept_before_the_next() -> None:
    window = FoldedWindow(chunk_bytes=5, overlap=3)
    stream = io.BytesIO(b"ab\nCDEFGHI\nJ")
    assert window.fill(stream.readinto) is not None  # the first chunk fills the tail's room too
    folded = window.fill(stream.readinto)
    assert (folded.tobytes() if folded else None, window.carried) == (b"efghi*j", 3)
    assert window.original(0, window.size) == b"EFGHI\nJ"
    assert window.newlines(0, window.size) == 1
    assert window.fill(stream.readinto) is None


class _Longer:
    """A decoded text: more bytes than asked for."""

    def __init__(self) -> None:
        self.chunks = [b"0123456789", b"abcdefghij", b""]

    def read(self, size: int = -1, /) -> bytes:
        return self.chunks.pop(0)

    def close(self) -> None:
        pass


def test_what_a_read_gives_beyond_the_window_is_kept_for_the_next() -> None:
    peeked, window, seen = Peeked(_Longer()), FoldedWindow(chunk_bytes=4, overlap=0), b""
    while (folded := window.fill(peeked.readinto)) is not None:
        seen += folded.tobytes()
    assert seen == b"0123456789abcdefghij"


class _WouldBlock:
    """A non-blocking stream with nothing ready: ``readinto`` answers None, not 0."""

    def read(self, size: int = -1, /) -> bytes:
        return b""

    def readinto(self, buffer: memoryview) -> None:
        return None

    def close(self) -> None:
        pass


def test_a_stream_that_would_block_is_an_error_not_its_end() -> None:
    window = FoldedWindow(chunk_bytes=4, overlap=0)
    with pytest.raises(OSError, match="would block"):
        window.fill(Peeked(_WouldBlock()).readinto)
