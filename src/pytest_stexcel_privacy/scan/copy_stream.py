"""A table searched as PostgreSQL streams it: ``COPY (SELECT ...) TO STDOUT``, text format.

Why: a regex sieve run inside the server costs more the more rows look like
a needle, and a table of hex strings passes all of it. Reading every row once
and searching the stream for the needles (``matcher.Automaton``: Hyperscan or a
DFA) costs the same whatever the data and whichever needles were minted.

The stream is searched in blocks of whole lines, so no match is cut in two.
COPY's text format escapes backslashes and six control characters, so the
needles are searched for in that escaped form (escaping maps each byte on its
own, so a needle in a cell is its escaped form in the escaped line). A line
is read back into cells only where the stream holds a needle, or a cell that
may be an encoded value (base64, a signed session) for the value decoders to
open: a cell starting with 16 characters of those alphabets (a dot only as the
first, as a signed value has it) that is not a hex string (hex strings are no
built-in encoding: ``encoded_cells.py``). Both tests run over whole blocks in C
(as one Hyperscan pass where that is faster: ``block_marks.py``), so the cost per
row does not depend on what the rows hold.
Evidence is then taken from the cells exactly as from a fetched row.

The first fields of each line are the row's locator (its primary key, or its
``ctid``), each behind a ``#``, so that a key such as a UUID never looks
encoded. (A page range reads a key's columns once, as the cells they also are:
``pg_ranges.py``.)
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .block_marks import block_marks
from .matcher import NeedleMatcher

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


@dataclass(frozen=True)
class LineFormat:
    """How a stream separates cells and lines, and whether cells are COPY-escaped."""

    cell: bytes
    line: bytes
    escaped: bool


COPY_TEXT = LineFormat(b"\t", b"\n", escaped=True)  # COPY's text format
# Rows joined by the server (``pg_ranges.py``), unescaped: bytes text rarely holds.
JOINED = LineFormat(b"\x1f", b"\x1e", escaped=False)


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
    """The needles as the stream shows them, and the lines of a block worth reading."""

    def __init__(self, matcher: NeedleMatcher, line_format: LineFormat = COPY_TEXT) -> None:
        self.format = line_format
        shown = copy_escaped if line_format.escaped else bytes
        separators = line_format.cell + line_format.line
        # A needle holding a separator lies in no single cell: a cell holding one breaks
        # its range's counts, which is then read again as COPY, whose format escapes it.
        # Left in, it could hide another needle from the two searches and not from the
        # one pass, and the race's winner would decide what was found.
        self.keys = tuple(
            key
            for key in dict.fromkeys(shown(n.key).lower() for n in matcher.needles)
            if not any(byte in key for byte in separators)
        )
        self._marks = block_marks(self.keys, separators)

    def lines(self, block: bytes, every: bool = False) -> Iterator[bytes]:
        """Each line of ``block`` (whole lines) holding a needle or a cell that may be
        encoded; each once, without its separator. ``every``: all of them (decoders other
        than the built-ins may recognise any value)."""
        if every:
            end_of_line = self.format.line
            yield from block.split(end_of_line)[: -1 if block.endswith(end_of_line) else None]
            return
        for line, _ in self.marked_lines(block):
            yield line

    def marked_lines(self, block: bytes) -> Iterator[tuple[bytes, list[int]]]:
        """Each line worth reading, as ``lines`` finds them, with the cells that made it so:
        their numbers in the line (0 for its first cell)."""
        for line, needles, encoded in self.lines_with_marks(block):
            yield line, sorted(needles | encoded)

    def lines_with_marks(self, block: bytes) -> Iterator[tuple[bytes, set[int], set[int]]]:
        """Each line worth reading, with the numbers of its cells where a needle starts and
        of those that may be encoded, apart."""
        end_of_line, cell = self.format.line, self.format.cell
        needles, encoded = self._starts(block)
        by_line: dict[int, tuple[list[int], list[int]]] = {}
        for offsets, kind in ((needles, 0), (encoded, 1)):
            for offset in offsets:
                start = block.rfind(end_of_line, 0, offset) + 1
                by_line.setdefault(start, ([], []))[kind].append(offset)
        for start in sorted(by_line):
            end = block.find(end_of_line, start)
            line = block[start : end if end >= 0 else len(block)]
            needle_marks, encoded_marks = by_line[start]
            yield (
                line,
                {line.count(cell, 0, m - start) for m in needle_marks},
                {line.count(cell, 0, m - start) for m in encoded_marks},
            )

    def _starts(self, block: bytes) -> tuple[set[int], set[int]]:
        """Where a needle starts, and where a cell that may be encoded starts."""
        return self._marks.find_matches_as_indexes(block)


_SEARCHES: weakref.WeakKeyDictionary[NeedleMatcher, dict[LineFormat, StreamSearch]] = (
    weakref.WeakKeyDictionary()
)


_BUILDING = threading.Lock()


def stream_search(matcher: NeedleMatcher, line_format: LineFormat = COPY_TEXT) -> StreamSearch:
    """The matcher's ``StreamSearch``, built once per matcher and format (a scan searches
    every table); threads asking while it is built wait for it."""
    with _BUILDING:
        searches = _SEARCHES.setdefault(matcher, {})
        if line_format not in searches:
            searches[line_format] = StreamSearch(matcher, line_format)
        return searches[line_format]


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
