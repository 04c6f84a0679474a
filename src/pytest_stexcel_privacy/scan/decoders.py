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

import base64
import binascii
import bz2
import codecs
import errno
import functools
import gzip
import importlib.metadata
import json
import lzma
import pickletools
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol, cast

from ..contract.decoding import NotThisFormat, ValueDecoder
from ..errors import StoreUnreadable
from ..observe.decompress import TooLarge, Truncated, members
from ..people.needles import Needle
from .matcher import NeedleMatcher

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

    def readinto(self, buffer: memoryview) -> int:
        """``read`` into ``buffer``: straight from the stream where it can (a file, a
        decompressor), else what ``read`` gives that does not fit is kept for later (a
        text decoded to UTF-8 can be longer than what was asked)."""
        if not self._pending and hasattr(self.stream, "readinto"):
            count = cast(int | None, self.stream.readinto(buffer))
            if count is None:  # a non-blocking stream: no end of data, never a pass
                raise OSError(errno.EAGAIN, "the stream would block")
            return count
        data = self.read(len(buffer))
        fits = min(len(data), len(buffer))
        buffer[:fits] = data[:fits]
        self._pending = data[fits:] + self._pending
        return fits

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


# --- values: encodings one stored value can be in (columns, Redis values) ----------------
#
# A database cell or a Redis value can hold personal data encoded: a Django signed session
# (URL-safe base64 of JSON, zlib-compressed when it starts with "."), JSON in base64, a
# zlib/gzip/bzip2/xz blob, msgpack, a pickle. Each ``ValueDecoder`` (contract/decoding.py)
# sniffs a value by its first bytes, cheaply, since every value passes it; only a value it
# recognises is decoded, and what is inside is searched and decoded in turn. Built-ins
# first, then a store's own ``decoders=``, then those other packages register under the
# entry point group ``pytest_stexcel_privacy.decoders``.

ENTRY_POINT_GROUP = "pytest_stexcel_privacy.decoders"
# A recognised value larger than this is refused (the store is unreadable), not decoded:
# well above what a cell or key holds in practice (a 50 MB text cell of letters is base64
# by its alphabet, and must still be searched).
MAX_VALUE_BYTES = 128 << 20
MAX_DECODED_BYTES = 128 << 20  # what one value may expand to in all (decompression bombs)
MAX_VALUE_DEPTH = 5  # encodings inside encodings; deeper is refused, not searched
MIN_ENCODED_BYTES = 12  # shorter values hold no encoded needle worth decoding

_SIGNED = re.compile(rb"(\.?)([A-Za-z0-9_-]{8,})(?::[A-Za-z0-9_-]+){1,2}")
_BASE64 = re.compile(rb"[A-Za-z0-9+/]{12,}={0,2}|[A-Za-z0-9_-]{12,}={0,2}")
# What the first 64 bytes of a signed value and of base64 look like (the sniffs).
_SIGNED_HEAD = re.compile(rb"\.?[A-Za-z0-9_-]{8,}(?::[A-Za-z0-9_-]*)*")
_BASE64_HEAD = re.compile(rb"[A-Za-z0-9+/_-]+={0,2}")
# The gate before every built-in sniff: a value starting with none of the binary formats'
# first bytes, nor with 16 characters of base64 or of a signed value, is in no built-in
# encoding. One regex, so an ordinary value costs one call.
_ZLIB_HEADS = [
    bytes((method, flags))
    for method in range(0x08, 0x80, 0x10)  # deflate, window up to 32 KiB
    for flags in range(256)
    if ((method << 8) | flags) % 31 == 0
]
_GATE = re.compile(
    rb"(?P<binary>[\x1f\x42\xfd\x80-\x9f\xdc-\xdf]|"
    + b"|".join(re.escape(head) for head in _ZLIB_HEADS)
    + rb")|[A-Za-z0-9+/_.-][A-Za-z0-9+/_=:-]{15}"
)
_HEX_ONLY = re.compile(rb"[0-9a-fA-F]+")  # a digest, not base64 (though it would decode)
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]{8,}")
# The first bytes of every binary compressed format the built-ins open.
_COMPRESSED_HEADS = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda", b"\x1f\x8b", b"BZh")


def _bounded(make: Callable[[], Any], data: bytes) -> bytes:
    """``data`` decompressed by ``make()``'s decompressor, members one after another,
    refusing more than ``MAX_DECODED_BYTES``; a truncated stream is not the format."""
    try:
        return members(make, data, MAX_DECODED_BYTES)
    except TooLarge:
        raise ContainerUnreadable(f"decodes to more than {MAX_DECODED_BYTES:,} bytes") from None
    except Truncated:
        raise NotThisFormat("truncated") from None


def _zlib(data: bytes) -> bytes:
    return _bounded(zlib.decompressobj, data)


def _is_zlib(data: bytes) -> bool:
    return (
        len(data) >= 8
        and data[0] & 0x0F == 8
        and data[0] >> 4 <= 7
        and ((data[0] << 8) | data[1]) % 31 == 0
    )


def _b64(text: bytes) -> bytes:
    text = text.rstrip(b"=")
    padded = text + b"=" * (-len(text) % 4)
    try:
        if b"-" in text or b"_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except binascii.Error as exc:
        raise NotThisFormat(str(exc)) from exc


def _signed(data: bytes) -> bytes:
    """Django ``signing.dumps``: ``[.]payload:timestamp:signature``, the payload URL-safe
    base64, zlib-compressed when it starts with "."."""
    match = _SIGNED.fullmatch(data)
    if match is None:
        raise NotThisFormat("not payload:signature")
    payload = _b64(match.group(2))
    return _zlib(payload) if match.group(1) else payload


def _base64(data: bytes) -> bytes:
    if not _BASE64.fullmatch(data) or len(data.rstrip(b"=")) % 4 == 1:
        raise NotThisFormat("no base64 has this length")
    return _b64(data)


def _pickle_strings(data: bytes) -> list[bytes]:
    """Every string and bytes argument of the pickle's opcodes: read, never unpickled."""
    found: list[bytes] = []
    for _, argument, _ in pickletools.genops(data):
        if isinstance(argument, str):
            found.append(argument.encode("utf-8", "surrogatepass"))
        elif isinstance(argument, (bytes, bytearray)):
            found.append(bytes(argument))
    return found


def _is_msgpack(data: bytes) -> bool:
    """A map or array whose first item starts like a msgpack string or small integer."""
    head = data[0] if data else 0
    if 0x81 <= head <= 0x8F or 0x91 <= head <= 0x9F:
        first = 1  # a fix-size map or array
    elif head in (0xDC, 0xDE):
        first = 3  # 16-bit length
    elif head in (0xDD, 0xDF):
        first = 5  # 32-bit length
    else:
        return False
    if len(data) <= first + 1:
        return False
    item = data[first]
    return item < 0x80 or 0xA0 <= item <= 0xBF or item in (0xD9, 0xDA)


def _msgpack_strings(data: bytes) -> list[bytes]:
    try:
        import msgpack
    except ImportError:
        return _msgpack_without_library(data)
    try:
        value = msgpack.unpackb(data, raw=True, strict_map_key=False)
    except (ValueError, msgpack.UnpackException) as exc:
        raise NotThisFormat(str(exc)) from exc
    return [
        bytes(item.data if isinstance(item, msgpack.ExtType) else item)
        for item in _leaves(value)
        if isinstance(item, (bytes, bytearray, msgpack.ExtType))
    ]


def _leaves(value: object) -> Iterator[object]:
    """Every key and item of a nested structure of dicts, lists and tuples."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
        else:
            yield item


def _msgpack_without_library(data: bytes) -> list[bytes]:
    """Fail closed without ``msgpack``: its strings are stored as they are, so the raw
    search sees them, and so does this one (the printable runs, decoded in turn); only a
    compressed part could hide a value, and a value holding one is refused."""
    if any(head in data for head in _COMPRESSED_HEADS):
        raise ContainerUnreadable(
            "a msgpack value holds what may be a compressed part, which only the msgpack "
            "package can reach: pip install msgpack"
        )
    return [run.strip() for run in _PRINTABLE_RUN.findall(data)]


def _json_strings(data: bytes) -> list[bytes]:
    """The strings of a JSON document found inside an encoding (each decoded in turn)."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise NotThisFormat(str(exc)) from exc
    return [
        item.encode("utf-8", "surrogatepass")
        for item in _leaves(value)
        if isinstance(item, str) and len(item) >= MIN_ENCODED_BYTES
    ]


_ERRORS = (ValueError, EOFError, OSError, zlib.error, lzma.LZMAError, binascii.Error)

# Order matters: the first decoder that decodes a value wins.
BUILTIN_VALUE_DECODERS: tuple[ValueDecoder, ...] = (
    ValueDecoder(
        "gzip",
        lambda d: d[:2] == b"\x1f\x8b",
        lambda d: _bounded(lambda: zlib.decompressobj(wbits=31), d),
        _ERRORS,
    ),
    ValueDecoder(
        "bzip2",
        lambda d: d[:3] == b"BZh" and d[4:10] == b"1AY&SY",
        lambda d: _bounded(bz2.BZ2Decompressor, d),
        _ERRORS,
    ),
    ValueDecoder(
        "xz",
        lambda d: d[:6] == b"\xfd7zXZ\x00",
        lambda d: _bounded(lzma.LZMADecompressor, d),
        _ERRORS,
    ),
    ValueDecoder("zlib", _is_zlib, _zlib, _ERRORS),
    ValueDecoder(
        "pickle",
        lambda d: len(d) > 3 and d[0] == 0x80 and 2 <= d[1] <= 5,
        _pickle_strings,
        (*_ERRORS, struct.error, IndexError, UnicodeError),
    ),
    ValueDecoder("msgpack", _is_msgpack, _msgpack_strings, _ERRORS),
    ValueDecoder(
        "signed session",
        lambda d: len(d) >= 20 and b":" in d and _SIGNED_HEAD.fullmatch(d[:64]) is not None,
        _signed,
        _ERRORS,
    ),
    ValueDecoder(
        "base64",
        lambda d: (
            len(d) >= 16
            and _BASE64_HEAD.fullmatch(d[:64]) is not None
            and not _HEX_ONLY.fullmatch(d)
        ),
        _base64,
        _ERRORS,
    ),
)
# Inside an encoding only: JSON whose strings may be encoded in turn (a session's values).
_JSON = ValueDecoder(
    "json", lambda d: d[:1] in (b"{", b"[") and d.rstrip()[-1:] in (b"}", b"]"), _json_strings
)


# Where the text formats start among the built-ins. The binary formats before them sniff
# only values starting as the gate's ``binary`` group does, so text past the gate is
# sniffed by these alone (``_candidates``).
_TEXT_DECODERS_AT = [decoder.name for decoder in BUILTIN_VALUE_DECODERS].index("signed session")
_TEXT_DECODERS = BUILTIN_VALUE_DECODERS[_TEXT_DECODERS_AT:]
_OWN_DECODERS = frozenset((*BUILTIN_VALUE_DECODERS, _JSON))


@functools.cache
def installed_value_decoders() -> tuple[ValueDecoder, ...]:
    """The decoders other packages register under ``ENTRY_POINT_GROUP``, each a
    ``ValueDecoder`` (or a callable returning one). One that fails to load makes every
    store unreadable: a decoder the user installed is never silently left out."""
    found: list[ValueDecoder] = []
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
            decoder = (
                loaded() if callable(loaded) and not isinstance(loaded, ValueDecoder) else loaded
            )
        except Exception as exc:
            raise ContainerUnreadable(
                f"the decoder {entry.name!r} ({entry.value}) did not load: {exc}"
            ) from exc
        if not isinstance(decoder, ValueDecoder):
            raise ContainerUnreadable(
                f"the decoder {entry.name!r} ({entry.value}) is not a ValueDecoder"
            )
        found.append(decoder)
    return tuple(found)


def value_decoders(own: Sequence[ValueDecoder] = ()) -> tuple[ValueDecoder, ...]:
    """Every decoder a store's values go through: built-ins, the store's own, installed."""
    return (*BUILTIN_VALUE_DECODERS, *own, *installed_value_decoders())


def expand(
    data: bytes, decoders: Sequence[ValueDecoder], depth: int = 0
) -> Iterator[tuple[str, bytes]]:
    """Each layer encoded inside ``data`` as (how it was reached, bytes): ``("signed
    session", b'{"name": ...}')``. ``data`` itself is not yielded. Cheap when nothing
    decodes: every decoder only sniffs. Raises ``ContainerUnreadable`` for a value that is
    recognised but too large, too deeply nested or, per its decoder, unreadable."""
    candidates = _candidates(data, decoders, depth)
    for decoder in (*candidates, _JSON) if depth else candidates:
        if not decoder.sniff(data):
            continue
        if len(data) > MAX_VALUE_BYTES:
            raise ContainerUnreadable(
                f"a {decoder.name} value of {len(data):,} bytes is too large to decode"
            )
        if depth >= MAX_VALUE_DEPTH:
            raise ContainerUnreadable(f"encodings nested more than {MAX_VALUE_DEPTH} deep")
        try:
            decoded = decoder.decode(data)
            parts = [decoded] if isinstance(decoded, (bytes, bytearray)) else list(decoded)
        except ContainerUnreadable:
            raise
        except decoder.errors:
            continue  # the sniff was wrong: not this format
        except Exception as exc:
            if decoder in _OWN_DECODERS:
                # random bytes that pass a sniff break parsers in any way (msgpack builds a
                # map keyed by a list: TypeError): a real value in the format decodes
                continue
            raise ContainerUnreadable(
                f"the {decoder.name!r} decoder failed on a value it recognised: {exc!r}"
            ) from exc
        if sum(len(part) for part in parts) > MAX_DECODED_BYTES:
            raise ContainerUnreadable(f"a {decoder.name} value decodes to too many bytes")
        for part in parts:
            part = bytes(part)
            if decoder is not _JSON:  # a JSON string was searched with its document
                yield decoder.name, part
            for path, inner in expand(part, decoders, depth + 1):
                yield f"{decoder.name} > {path}", inner
        return


def _candidates(
    data: bytes, decoders: Sequence[ValueDecoder], depth: int
) -> Sequence[ValueDecoder]:
    """The decoders worth sniffing ``data`` with: none for a short value, and the built-ins
    (which ``value_decoders`` puts first) only past the gate."""
    if len(data) < MIN_ENCODED_BYTES:
        return ()
    if decoders[:1] != BUILTIN_VALUE_DECODERS[:1]:
        return decoders
    gate = _GATE.match(data)
    if gate is None:
        return decoders[len(BUILTIN_VALUE_DECODERS) :]
    if gate.lastgroup is None:
        # text, with no binary format's first bytes: only the text formats can sniff it
        return decoders[_TEXT_DECODERS_AT:]
    return decoders


def sniffed_by_any(data: bytes, decoders: Sequence[ValueDecoder]) -> bool:
    """Whether ``expand`` would try to decode ``data`` at all: some decoder worth sniffing
    it with recognises it. Where none does, ``data`` holds no encoded needle."""
    return any(decoder.sniff(data) for decoder in _candidates(data, decoders, 0))


def might_be_encoded_each(values: Sequence[bytes], decoders: Sequence[ValueDecoder]) -> list[bool]:
    """Whether any decoder would sniff each of ``values`` at all: the cheap test before
    ``decoded_matches``, without a Python call for each (a Redis batch has thousands of
    small values, few of them encoded)."""
    builtin = decoders[:1] == BUILTIN_VALUE_DECODERS[:1]
    if not builtin or decoders[len(BUILTIN_VALUE_DECODERS) :]:  # a decoder sniffs every value
        return [len(value) >= MIN_ENCODED_BYTES for value in values]
    gate = _GATE.match
    return [len(value) >= MIN_ENCODED_BYTES and gate(value) is not None for value in values]


# Base64 in one alphabet, no padding: a run of whole quanta, which decode independently.
_PLAIN_BASE64 = re.compile(rb"[A-Za-z0-9_-]+|[A-Za-z0-9+/]+")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def expand_each(
    pieces: Sequence[bytes], decoders: Sequence[ValueDecoder]
) -> Iterator[list[tuple[str, bytes]]]:
    """``list(expand(piece, decoders))`` for each of ``pieces``, in order (an error is
    raised at the piece that meets it). With the built-ins alone, the pieces only the
    base64 decoder would sniff and whole quanta of one alphabet (a cache's tokens and
    ids) are decoded together, by one call for them all: decoding quanta joined gives
    their decodings joined. One Python call per such piece was most of a Redis scan's
    decoding (``benchmarks/README.md``)."""
    together: dict[bytes, bytes] = {}
    if tuple(decoders) == BUILTIN_VALUE_DECODERS:
        plain = [
            piece
            for piece in dict.fromkeys(pieces)
            if len(piece) % 4 == 0
            and len(piece) <= MAX_VALUE_BYTES
            and len(piece) // 4 * 3 <= MAX_DECODED_BYTES  # else ``expand`` refuses it
            and _only_base64(piece)
        ]
        if plain:
            decoded = memoryview(binascii.a2b_base64(b"".join(plain).translate(_TO_STANDARD)))
            at = 0
            for piece in plain:
                size = len(piece) // 4 * 3
                together[piece] = bytes(decoded[at : at + size])
                at += size
    for piece in pieces:
        part = together.get(piece)
        if part is None:
            yield list(expand(piece, decoders))
        else:
            yield [("base64", part), *_inside(part, decoders)]


def _only_base64(piece: bytes) -> bool:
    """Whether ``expand`` opens ``piece`` by the base64 decoder alone, as the joined call
    decodes it: one alphabet throughout and unpadded; past the gate to the text decoders
    only, sniffed by base64's and not by the signed value's."""
    if _PLAIN_BASE64.fullmatch(piece) is None:
        return False
    if _candidates(piece, BUILTIN_VALUE_DECODERS, 0) != _TEXT_DECODERS:
        return False
    signed, base64_ = _TEXT_DECODERS
    return base64_.sniff(piece) and not signed.sniff(piece)


def _inside(part: bytes, decoders: Sequence[ValueDecoder]) -> list[tuple[str, bytes]]:
    """The layers inside base64's ``part``, named as ``expand`` names them."""
    return [(f"base64 > {path}", inner) for path, inner in expand(part, decoders, 1)]


def decoded_matches(
    matcher: NeedleMatcher, data: bytes, decoders: Sequence[ValueDecoder]
) -> Iterator[tuple[str, Needle]]:
    """Each needle found inside an encoding of ``data``, with the path that reached it
    ("signed session", "base64 > zlib"); ``data``'s own bytes are the caller's to search."""
    for path, part in expand(data, decoders):
        for _, group in matcher.search(part):
            for needle in group:
                yield path, needle


_PARTS_KEPT: dict[bytes, tuple[bytes, ...]] = {}
_PARTS_LOCK = threading.Lock()
MAX_KEPT_VALUE = 64 << 10
MAX_KEPT_PARTS = 64 << 20
_kept = 0


def decoded_parts(data: bytes, decoders: Sequence[ValueDecoder]) -> tuple[bytes, ...]:
    """Every layer encoded inside ``data`` (``expand`` without the paths). Remembered for
    the built-in decoders, pure functions of the bytes, as a store's values are scanned
    again after every step; a value that cannot be decoded raises each time."""
    global _kept
    if not _candidates(data, decoders, 0):
        return ()
    kept = decoders == BUILTIN_VALUE_DECODERS and len(data) <= MAX_KEPT_VALUE
    if kept and (parts := _PARTS_KEPT.get(data)) is not None:
        return parts
    parts = tuple(part for _, part in expand(data, decoders))
    size = len(data) + sum(len(part) for part in parts)
    with _PARTS_LOCK:
        if kept and _kept + size <= MAX_KEPT_PARTS:
            _PARTS_KEPT[data] = parts
            _kept += size
    return parts


def store_decoders(store_name: str, own: Sequence[ValueDecoder]) -> tuple[ValueDecoder, ...]:
    """``value_decoders(own)``, an installed one that fails to load making the store
    unreadable."""
    try:
        return value_decoders(own)
    except ContainerUnreadable as exc:
        raise StoreUnreadable(store_name, str(exc)) from exc
