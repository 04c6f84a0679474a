"""Decompressing within a bound, member after member: one loop for the provider sink's
bodies (``http_body``) and the stores' containers (``scan/decoders.py``).

A gzip file or body may hold several members, one after another, with NUL padding
between them (as Python's ``gzip`` reads them); a bomb must stop at the bound, not
after it has filled memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Decompressor(Protocol):
    """zlib's, bz2's and lzma's decompressor objects alike."""

    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...


class TooLarge(Exception):
    """The data decompresses to more than the bound."""


class Truncated(Exception):
    """The data ends inside a member."""


def members(make: Callable[[], Decompressor], data: bytes, limit: int) -> bytes:
    """``data`` decompressed by a ``make()`` per member, at most ``limit`` bytes in all.
    The decompressor's own error (``zlib.error``, ``OSError``, ``LZMAError``) passes."""
    out = bytearray()
    while data:
        decompressor = make()
        out += decompressor.decompress(data, limit + 1 - len(out))
        if len(out) > limit:
            raise TooLarge(f"it decompresses to over {limit:,} bytes")
        if not decompressor.eof:
            raise Truncated("the compressed data ends early")
        data = decompressor.unused_data.lstrip(b"\0")
    return bytes(out)
