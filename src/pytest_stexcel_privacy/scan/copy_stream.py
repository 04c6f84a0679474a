"""A table searched as PostgreSQL streams it: ``COPY (SELECT ...) TO STDOUT``, text format.

Why: a regex sieve run inside the server costs more the more rows look like
a needle, and a table of hex strings passes all of it. Reading every row once
and searching the stream with the needles' DFA costs the same whatever the
data and whichever needles were minted.

The stream is searched in blocks of whole lines, so no match is cut in two.
COPY's text format escapes backslashes and six control characters, so the
needles are searched for in that escaped form (escaping maps each byte on its
own, so a needle in a cell is its escaped form in the escaped line). A line
is read back into cells only where the stream holds a needle, or a cell that
may be an encoded value (base64, a signed session) for the value decoders to
open: a cell starting with 16 characters of those alphabets that is not a hex
string (hex strings are no built-in encoding). Both tests run over whole
blocks in C, so the cost per row does not depend on what the rows hold.
Evidence is then taken from the cells exactly as from a fetched row.

The first fields of each line are the row's locator (its primary key, or its
``ctid``), each behind a ``#``, so that a key such as a UUID never looks
encoded.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Iterator

import ahocorasick_rs

from .matcher import DFA_MAX_NEEDLES, NeedleMatcher

# What COPY's text format writes for each byte it escapes (PostgreSQL, "COPY": text format).
COPY_ESCAPES = {
    b"\\": b"\\\\",
    b"\b": b"\\b",
    b"\f": b"\\f",
    b"\n": b"\\n",
    b"\r": b"\\r",
    b"\t": b"\\t",
    b"\v": b"\\v",
}
_UNESCAPED = {escaped[1:]: raw for raw, escaped in COPY_ESCAPES.items()}
_ESCAPE = re.compile(rb"\\(.)", re.S)
NULL = b"\\N"
LOCATOR_MARK = "#"  # before each locator field: no key looks like an encoded cell
BLOCK_BYTES = 1 << 20  # a block searched at once (whole lines, so at least one line)

# Each byte as its class, for the encoded-cell test: a hex digit, another character of
# base64 or of a signed value, a field or line separator, anything else.
_HEX = b"0123456789abcdefABCDEF"
_ENCODED_ONLY = b"ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ+/_=:.-"


def _class_of(byte: int) -> int:
    if byte in b"\t\n":
        return ord("|")
    return ord("h") if byte in _HEX else ord("B") if byte in _ENCODED_ONLY else ord(" ")


_CLASSES = bytes(_class_of(byte) for byte in range(256))
# A cell (after a separator) starting with 16 such characters, not all hex: a non-hex one
# within the first 65, or more than 64 hex digits (the base64 and signed-value sniffs read
# 64). The built-in gate (decoders._GATE) reads the same 16. Possessive: no backtracking.
_ENCODED_CELL = re.compile(rb"\|(?=[hB]{16})h{0,64}+[Bh]")


def copy_escaped(data: bytes) -> bytes:
    """``data`` as COPY's text format writes it."""
    for raw, escaped in COPY_ESCAPES.items():
        data = data.replace(raw, escaped)
    return data


def copy_fields(line: bytes) -> list[bytes | None]:
    """The fields of one COPY text line (without its newline), unescaped; ``None`` for NULL."""
    return [
        None
        if field == NULL
        else _ESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), field)
        if b"\\" in field
        else field
        for field in line.split(b"\t")
    ]


class StreamSearch:
    """The needles in COPY's escaped form, and the lines of a block worth reading."""

    def __init__(self, matcher: NeedleMatcher) -> None:
        keys = list(dict.fromkeys(copy_escaped(n.key).lower() for n in matcher.needles))
        implementation = ahocorasick_rs.Implementation.DFA if len(keys) <= DFA_MAX_NEEDLES else None
        self._automaton = (
            ahocorasick_rs.BytesAhoCorasick(keys, implementation=implementation) if keys else None
        )

    def lines(self, block: bytes, every: bool = False) -> Iterator[bytes]:
        """Each line of ``block`` (whole lines) holding a needle or a cell that may be
        encoded; each once, without its newline. ``every``: all of them (decoders other
        than the built-ins may recognise any value)."""
        if every:
            yield from block.splitlines()
            return
        offsets: set[int] = set()
        if self._automaton is not None:
            found = self._automaton.find_matches_as_indexes(block.lower(), overlapping=False)
            offsets.update(start for _, start, _ in found)
        # the separator before the cell may be the previous line's newline: start after it
        offsets.update(m.start() + 1 for m in _ENCODED_CELL.finditer(block.translate(_CLASSES)))
        starts = sorted({block.rfind(b"\n", 0, offset) + 1 for offset in offsets})
        for start in starts:
            yield block[start : block.index(b"\n", start)]


_SEARCHES: weakref.WeakKeyDictionary[NeedleMatcher, StreamSearch] = weakref.WeakKeyDictionary()


def stream_search(matcher: NeedleMatcher) -> StreamSearch:
    """The matcher's ``StreamSearch``, built once per matcher (a scan searches every table)."""
    if matcher not in _SEARCHES:
        _SEARCHES[matcher] = StreamSearch(matcher)
    return _SEARCHES[matcher]


def blocks(chunks: Iterable[bytes | bytearray | memoryview]) -> Iterator[bytes]:
    """The stream's chunks (one per row, as the server sends them) joined into blocks of
    whole lines of about ``BLOCK_BYTES``."""
    parts: list[bytes | bytearray | memoryview] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= BLOCK_BYTES:
            data = b"".join(parts)
            cut = data.rfind(b"\n") + 1
            if cut:
                yield data[:cut]
            parts, size = [data[cut:]], len(data) - cut
    rest = b"".join(parts)
    if rest:
        yield rest if rest.endswith(b"\n") else rest + b"\n"
