"""A request's body as the provider it was meant for would read it.

A module may stream a request (``Transfer-Encoding: chunked``, what ``requests`` and
``urllib`` send for a body of unknown length, a generator's) or compress it
(``Content-Encoding: gzip``).
A provider undoes both before it reads a word, so the sink must too: searched as
sent, the personal data such a request carries would go unseen (a wrong pass), and
a compressed deletion request would not be known as one (a false alarm). A body the
sink cannot undo is unreadable, never clean.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Mapping
from typing import Protocol

from .decompress import TooLarge, Truncated, members

# Bounds a malformed or hostile body cannot push the sink past.
MAX_BODY_BYTES = 64 << 20
MAX_CHUNK_LINE = 4096
_HEX = re.compile(rb"[0-9A-Fa-f]+")  # a chunk's size: no sign, no 0x, no underscores


class Stream(Protocol):
    """Where the body is read from: the request handler's ``rfile``."""

    def read(self, size: int, /) -> bytes: ...
    def readline(self, size: int, /) -> bytes: ...


class BodyUnreadable(Exception):
    """The body cannot be read as its headers say it is sent or coded."""


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "")


def _codings(headers: Mapping[str, str], name: str) -> list[str]:
    """The comma-separated codings of header ``name``, lower-cased, in the order applied."""
    return [c.strip().lower() for c in _header(headers, name).split(",") if c.strip()]


def read_body(headers: Mapping[str, str], stream: Stream) -> bytes:
    """The body as sent, read from ``stream`` after the headers: chunks joined (a
    chunked body's length is in its chunks, not in ``Content-Length``)."""
    codings = _codings(headers, "transfer-encoding")
    if codings and codings != ["chunked"]:
        raise BodyUnreadable(f"Transfer-Encoding {', '.join(codings)!r} is not chunked alone")
    if codings:
        return _dechunked(stream)
    length = _header(headers, "content-length").strip()
    if not length:
        return b""
    if not (length.isascii() and length.isdigit()) or int(length) > MAX_BODY_BYTES:
        raise BodyUnreadable(f"Content-Length {length!r} is not a length up to {MAX_BODY_BYTES:,}")
    body = stream.read(int(length))
    if len(body) < int(length):
        raise BodyUnreadable(f"the body ended after {len(body):,} of {int(length):,} bytes")
    return body


def _dechunked(stream: Stream) -> bytes:
    chunks: list[bytes] = []
    size_read = 0
    while True:
        line = stream.readline(MAX_CHUNK_LINE)
        size_field = line.split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_field):
            raise BodyUnreadable(f"a chunk's size line reads {line[:40]!r}")
        size = int(size_field, 16)
        if size == 0:
            break
        size_read += size
        if size_read > MAX_BODY_BYTES:
            raise BodyUnreadable(f"chunks of over {MAX_BODY_BYTES:,} bytes")
        chunk = stream.read(size)
        if len(chunk) < size or stream.readline(MAX_CHUNK_LINE).strip():
            raise BodyUnreadable("a chunk ended before its size or ran past it")
        chunks.append(chunk)
    while stream.readline(MAX_CHUNK_LINE).strip():  # trailers, up to the blank line
        pass
    return b"".join(chunks)


def _inflate(wbits: int) -> Callable[[bytes], bytes]:
    def inflate(data: bytes) -> bytes:
        try:
            return members(lambda: zlib.decompressobj(wbits), data, MAX_BODY_BYTES)
        except (TooLarge, Truncated) as exc:
            raise BodyUnreadable(str(exc)) from None

    return inflate


def _deflate(data: bytes) -> bytes:
    """HTTP's ``deflate`` is zlib-wrapped; some senders send it raw."""
    try:
        return _inflate(zlib.MAX_WBITS)(data)
    except zlib.error:
        return _inflate(-zlib.MAX_WBITS)(data)
    except BodyUnreadable as wrapped:  # cut short, or raw data that began like a header
        try:
            return _inflate(-zlib.MAX_WBITS)(data)
        except (zlib.error, BodyUnreadable):
            raise wrapped from None


_DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "identity": lambda data: data,
    "gzip": _inflate(16 + zlib.MAX_WBITS),
    "x-gzip": _inflate(16 + zlib.MAX_WBITS),
    "deflate": _deflate,
}


def decoded(headers: Mapping[str, str], body: bytes) -> bytes:
    """``body`` with its ``Content-Encoding`` undone, last coding applied first. An empty
    body is empty whatever its header says (a client may mark every request so)."""
    if not body:
        return body
    for coding in reversed(_codings(headers, "content-encoding")):
        decode = _DECODERS.get(coding)
        if decode is None:
            raise BodyUnreadable(
                f"Content-Encoding {coding!r} cannot be undone here (only "
                f"{', '.join(sorted(_DECODERS))})"
            )
        try:
            body = decode(body)
        except zlib.error as exc:
            raise BodyUnreadable(f"it is not valid {coding}: {exc}") from None
    return body
