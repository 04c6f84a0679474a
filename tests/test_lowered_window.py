"""The file scanner's lower-cased window: the same bytes as ``bytes.lower()``, tail kept."""

from __future__ import annotations

from pytest_stexcel_privacy.scan.lowered_window import LoweredWindow


def test_every_byte_is_lowered_as_bytes_lower_does() -> None:
    data = bytes(range(256)) * 3
    window = LoweredWindow(chunk_bytes=1024, overlap=4)
    assert window.push(data).tobytes() == data.lower()


def test_tail_of_previous_chunk_is_kept_before_the_next() -> None:
    window = LoweredWindow(chunk_bytes=8, overlap=3)
    window.push(b"ab\nCDEFG")
    assert (window.push(b"HI\nJ").tobytes(), window.carried) == (b"efghi\nj", 3)
    assert window.newlines(0, window.size) == 1


def test_a_chunk_longer_than_asked_grows_the_window() -> None:
    window = LoweredWindow(chunk_bytes=4, overlap=2)
    window.push(b"wxYZ")
    assert window.push(b"ABCDEFGHIJ").tobytes() == b"yzabcdefghij"
