"""A PostgreSQL table read in ranges of its pages, over several connections that share
the scan's snapshot, each range searched by the thread that read it.

Why: ``COPY ... TO STDOUT`` hands the client one message per row, and looping over
them in Python cost more than the server took to read the table. Here each range of
pages (``ctid``, a TID range scan) is one query whose answer is one value, its rows
joined by the server (``string_agg``), so Python sees a few values per megabyte. The
ranges are read by a few connections at once; a thread waiting for the server or
searching a block (the DFA releases the GIL) lets another work.

Every connection imports the scan's snapshot (``pg_export_snapshot``, then ``SET
TRANSACTION SNAPSHOT`` in a ``REPEATABLE READ READ ONLY`` transaction), so the split
scan sees one consistent database, as one stream did. The last range is open-ended:
pages added after the table's size was taken hold nothing the snapshot can see.

Rows are joined unescaped, cells by ``\\x1f`` and rows by ``\\x1e``. The range's row
count comes with it: a cell holding either byte shows as a wrong count (or a line with
too many cells), and that range is read again as a COPY stream, whose escapes are exact.
"""

from __future__ import annotations

import functools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any

from .copy_stream import JOINED, LOCATOR_MARK, blocks, copy_fields, stream_search
from .decoders import BUILTIN_VALUE_DECODERS, sniffed_by_any
from .matcher import NeedleMatcher

if TYPE_CHECKING:
    import psycopg

RANGE_BYTES = 2 << 20  # table bytes read by one range query (about as much row text)
MAX_CONNECTIONS = 4
Pages = tuple[int, int | None]  # a range's first page and end page (None: the last)
Row = list[Any]  # the locator values (text), then the cells (bytes, ``None`` for NULL)


class _Mismatch(Exception):
    """A cell held a separator: the joined range cannot be split into rows exactly."""


@functools.cache
def _raw_text() -> type[Any]:
    """A loader of text as the server sent it (UTF-8 bytes): searched as bytes, never
    decoded whole. Made on first use: psycopg is needed only with it."""
    from psycopg.adapt import Loader

    class Raw(Loader):
        def load(self, data: Any) -> bytes:
            return bytes(data)

    return Raw


def connections_wanted() -> int:
    """Two per core (the server reads a range for one while its thread searches the last
    one; measured on two cores: four were faster than two), at most four."""
    return min(MAX_CONNECTIONS, 2 * (os.cpu_count() or 1))


@dataclass(frozen=True)
class TableRead:
    """What to read of one table: ``locators`` and ``cells`` are SQL text expressions."""

    source: str
    locators: list[str]
    cells: list[str]
    pages: int
    pages_per_range: int
    every: bool  # every line is read back (decoders of the store's own)

    @functools.cached_property
    def own_locators(self) -> list[str]:
        """The locators read as fields of their own, marked, before the cells: those that
        are not cells too. A primary key's columns are cells too, and are read once: sent
        twice, they cost the server a sixth more over a table of three columns (1.06 s
        against 0.88 s)."""
        return [e for e in self.locators if e not in self.cells]

    @functools.cached_property
    def locator_fields(self) -> list[int]:
        """Where each locator's text is among a line's fields."""
        own = self.own_locators
        return [own.index(e) if e in own else len(own) + self.cells.index(e) for e in self.locators]

    def ranges(self) -> list[Pages]:
        """``(first page, end page)``; the last one open-ended."""
        starts = range(0, max(self.pages, 1), self.pages_per_range)
        return [(start, start + self.pages_per_range) for start in starts[:-1]] + [
            (starts[-1], None)
        ]

    def where(self, first: int, end: int | None) -> str:
        lower = f"t.ctid >= '({first},0)'::tid"
        return lower if end is None else f"{lower} AND t.ctid < '({end},0)'::tid"

    def joined_sql(self, first: int, end: int | None) -> str:
        # ``||``, not ``concat``, which takes at most 100 arguments; NULL as ""
        fields = [f"'{LOCATOR_MARK}' || {e}" for e in self.own_locators]
        fields += [f"coalesce({e}, '')" for e in self.cells]
        row = " || chr(31) || ".join(fields)
        return (
            f"SELECT count(*), string_agg({row}, chr(30)) "
            f"FROM {self.source} AS t WHERE {self.where(first, end)}"
        )

    def copy_sql(self, first: int, end: int | None) -> str:
        fields = [f"'{LOCATOR_MARK}' || {e}" for e in self.own_locators] + self.cells
        return (
            f"COPY (SELECT {', '.join(fields)} FROM {self.source} AS t "
            f"WHERE {self.where(first, end)}) TO STDOUT"
        )


class RangeReader:
    """The scan's extra connections, each in the scan's snapshot, and the threads using them."""

    def __init__(self, connections: list[psycopg.Connection[Any]], close: Callable[[], None]):
        self._idle: SimpleQueue[psycopg.Connection[Any]] = SimpleQueue()
        for connection in connections:
            self._idle.put(connection)
        self._threads = ThreadPoolExecutor(len(connections), thread_name_prefix="pg-ranges")
        self._lookahead = 2 * len(connections)
        self._close = close

    def close(self) -> None:
        """Wait for the threads (a query ends by ``statement_timeout`` at the latest), then
        close the connections."""
        self._threads.shutdown(wait=True, cancel_futures=True)
        self._close()

    def rows(self, table: TableRead, matcher: NeedleMatcher) -> Iterator[Row]:
        """The rows of ``table`` worth reading, range after range in page order. A failure is
        the driver's error (``psycopg.Error``), raised here."""
        pending: deque[Future[list[Row]]] = deque()
        ranges = iter(table.ranges())

        def ask() -> None:
            while len(pending) < self._lookahead and (bounds := next(ranges, None)):
                pending.append(self._threads.submit(self._read, table, matcher, bounds))

        try:
            ask()
            # Built once, here, while the server reads the first ranges (their threads wait
            # for it): a scan's first build took 0.12 s, its first ranges' queries as long.
            stream_search(matcher, JOINED)
            while pending:
                yield from pending.popleft().result()
                ask()
        finally:
            for future in pending:
                future.cancel()

    def _read(self, table: TableRead, matcher: NeedleMatcher, pages: Pages) -> list[Row]:
        connection = self._idle.get()
        try:
            try:
                return _joined(connection, table, matcher, pages)
            except _Mismatch:
                return _copied(connection, table, matcher, pages)
        finally:
            self._idle.put(connection)


def _joined(
    connection: psycopg.Connection[Any], table: TableRead, matcher: NeedleMatcher, pages: Pages
) -> list[Row]:
    """The range as one joined value; ``_Mismatch`` if a cell held a separator."""
    with connection.cursor() as cursor:
        cursor.adapters.register_loader("text", _raw_text())
        count, block = cursor.execute(table.joined_sql(*pages)).fetchone() or (0, None)
    if not count:
        return []
    block = block or b""
    if block.count(JOINED.line) != count - 1:
        raise _Mismatch
    first_cell = len(table.own_locators)
    fields = first_cell + len(table.cells)
    matcher.count_searched(count * len(table.cells), len(block))
    search = stream_search(matcher, JOINED)
    lines: Iterator[tuple[bytes, Iterable[int], set[int]]]
    if table.every:
        lines = ((line, range(fields), set()) for line in search.lines(block, every=True))
    else:
        lines = search.lines_with_marks(block)
    found: list[Row] = []
    for line, needles, encoded in lines:
        cells: list[bytes | None] = list(line.split(JOINED.cell))
        if len(cells) != fields:
            raise _Mismatch
        # A line holding no needle is read back only for a cell that may be encoded:
        # where no built-in decoder recognises one (16 letters before an "@" start like
        # base64), it holds nothing, and a Python step per such row made a table of them
        # cost thirty times the floor.
        if not needles and not any(
            sniffed_by_any(cells[number] or b"", BUILTIN_VALUE_DECODERS) for number in encoded
        ):
            continue
        # Only the cells holding a needle or looking encoded: the others, searched and
        # sniffed, would give nothing, and the row's evidence is taken in Python.
        found.append(_row(cells, table, kept=set(needles) | encoded))
    return found


def _copied(
    connection: psycopg.Connection[Any], table: TableRead, matcher: NeedleMatcher, pages: Pages
) -> list[Row]:
    """The range as a COPY stream, whose escapes are exact."""
    search = stream_search(matcher)
    found: list[Row] = []
    with connection.cursor() as cursor, cursor.copy(table.copy_sql(*pages)) as copy:
        for block in blocks(copy):
            matcher.count_searched(block.count(b"\n") * len(table.cells), len(block))
            found.extend(
                _row(copy_fields(line), table) for line in search.lines(block, table.every)
            )
    return found


def _row(fields: list[bytes | None], table: TableRead, kept: set[int] | None = None) -> Row:
    """A line's fields as a row: its locators' values, then its cells; with ``kept`` (field
    numbers), the cells not in it as ``None``."""
    first_cell = len(table.own_locators)
    keys = [
        (fields[number] or b"").decode("utf-8", "surrogateescape")[
            len(LOCATOR_MARK) if number < first_cell else 0 :
        ]
        for number in table.locator_fields
    ]
    if kept is None:
        return [*keys, *fields[first_cell:]]
    return [
        *keys,
        *(f if n in kept else None for n, f in enumerate(fields[first_cell:], first_cell)),
    ]
