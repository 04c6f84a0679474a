"""Containers a value can hide inside, opened before matching: the decoder registry.

A needle is searched in the bytes a store holds; a compressed file holds the
value only after decompression. Each decoder recognises its container by its
first bytes and opens it as a stream of the bytes inside, so the scanners
search every container they recognise. A recognised container that cannot be
opened makes the store unreadable, never clean (the scanner turns the
decoder's ``errors`` into ``StoreUnreadable``).

Two kinds: a *decoder* turns one stream into the one stream inside (gzip,
bzip2, xz, and UTF-16/UTF-32 text, re-encoded as UTF-8 so needles match);
an *archive* holds many members and yields each as (member name, stream)
(zip). A container found inside another is opened in turn (a gzip inside a
gzip, a gzip member of a zip), up to ``MAX_DEPTH`` layers; deeper is
unreadable, never skipped. An encrypted member is unreadable too.

Add a container with :func:`register_decoder` or :func:`register_archive`
(see ``docs/ARCHITECTURE.md``).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

MAX_DEPTH = 8  # containers inside containers; deeper is refused, not searched


class ContainerUnreadable(Exception):
    """A recognised container whose contents cannot be read (encrypted, too deeply nested)."""


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


@dataclass(frozen=True)
class Archive:
    """A container of many members: how to recognise it and list each member's bytes."""

    name: str
    magic: tuple[bytes, ...]  # any of these first bytes
    # Each member as (name, stream); needs a seekable file; the caller closes each stream.
    members: Callable[[BinaryIO], Iterator[tuple[str, Stream]]]
    errors: tuple[type[BaseException], ...]

    def recognises(self, head: bytes) -> bool:
        return any(head.startswith(magic) for magic in self.magic)


DECODERS: dict[str, Decoder] = {}
ARCHIVES: dict[str, Archive] = {}


def _check_new(name: str, magic: tuple[bytes, ...]) -> None:
    if name in DECODERS or name in ARCHIVES:
        raise ValueError(f"a decoder named {name!r} is already registered")
    if not magic or not all(magic):
        raise ValueError(f"decoder {name!r} needs the first bytes that identify it")


def register_decoder(decoder: Decoder) -> Decoder:
    """Add a container kind; names are unique and every decoder must have magic bytes.

    The first registered decoder whose magic matches wins: register a longer
    magic before a prefix of it (UTF-32 before UTF-16).
    """
    _check_new(decoder.name, (decoder.magic,))
    DECODERS[decoder.name] = decoder
    return decoder


def register_archive(archive: Archive) -> Archive:
    """Add an archive kind (many members); same rules as :func:`register_decoder`."""
    _check_new(archive.name, archive.magic)
    ARCHIVES[archive.name] = archive
    return archive


def head_bytes() -> int:
    """How many leading bytes :func:`decoder_for` and :func:`archive_for` need to see."""
    magics = [d.magic for d in DECODERS.values()]
    magics += [m for a in ARCHIVES.values() for m in a.magic]
    return max((len(m) for m in magics), default=0)


def decoder_for(head: bytes) -> Decoder | None:
    """The decoder whose container starts with ``head``, if any."""
    return next((d for d in DECODERS.values() if d.recognises(head)), None)


def archive_for(head: bytes) -> Archive | None:
    """The archive kind that starts with ``head``, if any."""
    return next((a for a in ARCHIVES.values() if a.recognises(head)), None)


class Peeked:
    """A stream whose first bytes were read to recognise it, replayed before the rest."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.head = _read_fully(stream, head_bytes())
        self._pending = self.head

    def read(self, size: int = -1, /) -> bytes:
        if not self._pending:
            return self.stream.read(size)
        if size < 0:
            data, self._pending = self._pending + self.stream.read(), b""
            return data
        data, self._pending = self._pending[:size], self._pending[size:]
        return data if len(data) == size else data + self.stream.read(size - len(data))

    def close(self) -> None:
        self.stream.close()


def _read_fully(stream: Readable, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := stream.read(size - len(data))):
        data += chunk
    return data


class _Utf8Text:
    """Text in another Unicode encoding (its BOM chose it), read back as UTF-8 bytes."""

    def __init__(self, raw: BinaryIO, encoding: str) -> None:
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="strict")

    def read(self, size: int = -1, /) -> bytes:
        while True:  # b"" only at the end, never for a half-read character
            data = self.raw.read(size)
            text = self.decoder.decode(data, final=not data)
            if text or not data:
                return text.encode("utf-8")

    def close(self) -> None:
        self.raw.close()


def _text(encoding: str) -> Callable[[BinaryIO], Stream]:
    return lambda raw: _Utf8Text(raw, encoding)


def _zip_members(raw: BinaryIO) -> Iterator[tuple[str, Stream]]:
    with zipfile.ZipFile(raw) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ContainerUnreadable(f"member {info.filename!r} is encrypted")
            yield info.filename, archive.open(info)


register_decoder(Decoder("gzip", b"\x1f\x8b", gzip.open, (EOFError, zlib.error, gzip.BadGzipFile)))
register_decoder(Decoder("bzip2", b"BZh", bz2.BZ2File, (EOFError, OSError)))
register_decoder(Decoder("xz", b"\xfd7zXZ\x00", lzma.LZMAFile, (EOFError, lzma.LZMAError)))
# UTF-32 first: its little-endian BOM starts with UTF-16's.
register_decoder(Decoder("utf-32", codecs.BOM_UTF32_LE, _text("utf-32"), (UnicodeDecodeError,)))
register_decoder(Decoder("utf-32be", codecs.BOM_UTF32_BE, _text("utf-32"), (UnicodeDecodeError,)))
register_decoder(Decoder("utf-16", codecs.BOM_UTF16_LE, _text("utf-16"), (UnicodeDecodeError,)))
register_decoder(Decoder("utf-16be", codecs.BOM_UTF16_BE, _text("utf-16"), (UnicodeDecodeError,)))
register_archive(
    Archive(
        "zip",
        (b"PK\x03\x04", b"PK\x05\x06"),
        _zip_members,
        (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError),
    )
)

# Containers recognised but not read: a file in one is unreadable, never passed over.
UNREADABLE_FORMATS: dict[str, bytes] = {
    "7z": b"7z\xbc\xaf\x27\x1c",
    "rar": b"Rar!\x1a\x07",
    "zstd": b"\x28\xb5\x2f\xfd",
    "lz4": b"\x04\x22\x4d\x18",
}


def unreadable_format(head: bytes) -> str | None:
    """The name of a container this registry recognises but cannot open, if ``head`` starts one."""
    return next((n for n, magic in UNREADABLE_FORMATS.items() if head.startswith(magic)), None)
