"""The file scanner's folded window: every byte with 0x20 set, the original kept."""

from __future__ import annotations

from pytest_stexcel_privacy.scan.folded_window import FoldedWindow
from pytest_stexcel_privacy.scan.matcher import fold


def test_every_byte_is_folded_as_the_needles_are() -> None:
    data = bytes(range(256)) * 3
    window = FoldedWindow(chunk_bytes=1024, overlap=4)
    assert window.push(data).tobytes() == fold(data)
    assert window.original(0, window.size) == data


def test_tail_of_previous_chunk_is_kept_before_the_next() -> None:
    window = FoldedWindow(chunk_bytes=8, overlap=3)
    window.push(b"ab\nCDEFG")
    assert (window.push(b"HI\nJ").tobytes(), window.carried) == (b"efghi*j", 3)
    assert window.original(0, window.size) == b"EFGHI\nJ"
    assert window.newlines(0, window.size) == 1


def test_a_chunk_longer_than_asked_grows_the_window() -> None:
    window = FoldedWindow(chunk_bytes=4, overlap=2)
    window.push(b"wxYZ")
    assert window.push(b"ABCDEFGHIJ").tobytes() == b"yzabcdefghij"
    assert window.original(0, 12) == b"YZABCDEFGHIJ"
