"""Containers a value can hide inside, opened before matching: the decoder registry.

A needle is searched in the bytes a store holds; a compressed file holds the
value only after decompression. Each decoder recognises its container by its
first bytes and opens it as a stream of the bytes inside, so the scanners
search every container they recognise. A recognised container that cannot be
opened makes the store unreadable, never clean (the scanner turns the
decoder's ``errors`` into ``StoreUnreadable``).

Add a container with :func:`register_decoder` (see ``docs/ARCHITECTURE.md``).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Protocol


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class Stream(Readable, Protocol):
    def close(self) -> None: ...


@dataclass(frozen=True)
class Decoder:
    """One kind of container: how to recognise it, how to open it, how it fails."""

    name: str  # shown in evidence before the location inside, e.g. "gzip line 3"
    magic: bytes  # the container's first bytes
    open: Callable[[BinaryIO], Stream]  # the caller closes the stream
    errors: tuple[type[BaseException], ...]  # what a corrupt or truncated container raises

    def recognises(self, head: bytes) -> bool:
        return head.startswith(self.magic)


DECODERS: dict[str, Decoder] = {}


def register_decoder(decoder: Decoder) -> Decoder:
    """Add a container kind; names are unique and every decoder must have magic bytes."""
    if decoder.name in DECODERS:
        raise ValueError(f"a decoder named {decoder.name!r} is already registered")
    if not decoder.magic:
        raise ValueError(f"decoder {decoder.name!r} needs the first bytes that identify it")
    DECODERS[decoder.name] = decoder
    return decoder


def head_bytes() -> int:
    """How many leading bytes :func:`decoder_for` needs to see."""
    return max((len(d.magic) for d in DECODERS.values()), default=0)


def decoder_for(head: bytes) -> Decoder | None:
    """The decoder whose container starts with ``head``, if any."""
    return next((d for d in DECODERS.values() if d.recognises(head)), None)


register_decoder(Decoder("gzip", b"\x1f\x8b", gzip.open, (EOFError, zlib.error, gzip.BadGzipFile)))
register_decoder(Decoder("bzip2", b"BZh", bz2.BZ2File, (EOFError, OSError)))
register_decoder(Decoder("xz", b"\xfd7zXZ\x00", lzma.LZMAFile, (EOFError, lzma.LZMAError)))
