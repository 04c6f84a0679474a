"""Residue scanning of SQLite databases, reflected with SQLAlchemy.

Every table the connection can see is read, not only the module's models:
audit, history, log, FTS and SQLite's own statistics tables too. The search
runs inside the database, one pass per table for every needle at once; only
rows that match come back to Python, to be attributed to needles.

The matcher is registered as a SQL function, and every column is passed to
it as ``CAST(column AS BLOB)``, because SQLite lets any column hold any type
(numbers stored as text, invalid UTF-8, NUL bytes). Files are opened
read-only: the scanner can never change a user's data.

SQLite does not erase what it deletes: unless ``PRAGMA secure_delete`` is on,
a deleted row stays in the database file's free pages, and in the
write-ahead log (or rollback journal) until a checkpoint. So the file and
its journals are also read as bytes. A value found there that no live row
holds is a hit marked as such (``structure``): residue of a deleted person.
A value a live row holds is not reported again from the raw bytes, so a
bystander's live data never shows up twice.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import urllib.parse
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from ..contract.decoding import ValueDecoder
from ..contract.stores import SQLStore
from ..errors import StoreUnreadable
from ..people.needles import Needle
from .decoders import store_decoders
from .engine_internals import SQLITE_STAT_TABLES, sqlite_raw_files, sqlite_structures
from .matcher import NeedleMatcher
from .residue import Hit
from .searchable import searchable_row
from .sql_scanner import SQLScanner, cell_hits, describe_locator

MATCH_FUNCTION = "stexcel_privacy_match"
MAX_FUNCTION_ARGS = 100  # SQLite builds before 3.48 refuse a call with more than 127
RAW_CHUNK = 16 << 20  # bytes of a database file or journal read at a time
# A database (with its journals) up to this size is proven unchanged by its digest.
MAX_WITNESSED_BYTES = 64 << 20


@dataclass(frozen=True)
class TableLayout:
    schema: str | None
    name: str
    structure: str  # what an engine-internal table is ("" for the module's own)
    columns: tuple[str, ...]
    locators: tuple[str, ...]  # the columns that locate a row: primary key, rowid or none


class SQLiteScanner(SQLScanner):
    """Every cell is also searched inside the encodings it may be in (``decoders.py``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # per schema: its sqlite_master rows when reflected, and the layouts read then
        self._reflected: dict[str | None, tuple[object, list[TableLayout]]] = {}
        self._files: list[Path] | None = None  # the database files the last scan read

    def witness(self) -> Hashable | None:
        """What proves the database unchanged since a scan (``reuse.py``): a digest of the
        bytes of each file the last scan read, with its write-ahead log and rollback
        journal, which hold everything the database is. Read whole, not by time or size,
        and with no connection kept open between scans (one would keep a write-ahead log
        alive past the module's last connection, and its residue with it). None before the
        first scan, which names the files, and for files too large to read twice."""
        if self._files is None:
            return None
        paths = [
            variant
            for path in self._files
            for variant in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))
        ]
        return _digests(paths)

    @classmethod
    def engine_for(cls, store: SQLStore, url: sa.URL) -> Engine:
        """A read-only engine on the database file; an in-memory URL cannot be shared."""
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise StoreUnreadable(
                store.name,
                "an in-memory SQLite database is visible only to the connection that made it; "
                "declare SQLStore(engine) with the module's own Engine instead of a URL",
            )
        path = Path(database)
        if not path.is_file():
            raise StoreUnreadable(store.name, f"database file {str(path)!r} does not exist")
        uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
        return sa.create_engine(
            "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool
        )

    def open(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreUnreadable(self.store.name, f"cannot open the database: {exc}") from exc

    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]:
        table = "(listing tables)"
        try:
            with self.engine.connect() as conn:
                dbapi = conn.connection.dbapi_connection
                assert dbapi is not None
                decoders = store_decoders(self.store.name, self.store.decoders)
                row_filter = RowFilter(matcher, decoders)
                dbapi.create_function(
                    MATCH_FUNCTION,
                    -1,  # a row's cells at once: one search per row, not per cell
                    row_filter,
                    deterministic=True,
                )
                live: set[Needle] = set()
                for layout in self._layouts(conn):
                    schema, table = layout.schema, layout.name
                    hits = self._scan_table(conn, matcher, layout, decoders)
                    for hit in hits:
                        live.add(hit.needle)
                        yield hit
                    row_filter.count()
                    scanned.append(f"{self.store.name}: {_qualified(schema, table)}")
                table = "(listing database files)"
                files = self._database_files(conn)
                # a database held in memory changes without any file showing it
                in_memory = len(files) < len(self.store.schemas or ("main",))
                self._files = None if in_memory else [path.resolve() for path, _ in files]
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreUnreadable(self.store.name, f"table {table!r}: {exc}") from exc
        for database, page_size in files:
            for path, structure in sqlite_raw_files(database):
                for hit in self._scan_raw(matcher, path, page_size, structure):
                    if hit.needle not in live:
                        yield hit
                if path.exists():
                    scanned.append(f"{self.store.name}: {path.name} (raw bytes)")

    def _database_files(self, conn: Connection) -> list[tuple[Path, int]]:
        """The file of each scanned schema (none for an in-memory one), with its page size."""
        files = []
        for _, name, file in conn.exec_driver_sql("PRAGMA database_list").all():
            if file and name in (self.store.schemas or ("main",)):
                page_size = conn.exec_driver_sql(f"PRAGMA {self.quote(name)}.page_size").scalar()
                files.append((Path(file), int(page_size or 4096)))
        return files

    def _scan_raw(
        self, matcher: NeedleMatcher, path: Path, page_size: int, structure: str
    ) -> Iterator[Hit]:
        """Every needle in the file's bytes, read in overlapping chunks; a journal that
        does not exist holds nothing, one that cannot be read is ``StoreUnreadable``."""
        journal = path.name.endswith(("-wal", "-journal"))
        overlap = max(matcher.longest - 1, 0)
        try:
            with path.open("rb") as raw:
                start, carried = 0, b""
                while chunk := raw.read(RAW_CHUNK):
                    data = carried + chunk
                    for offset, group in matcher.search(data):
                        at = start - len(carried) + offset
                        locator = f"byte {at}" if journal else f"page {at // page_size + 1}"
                        for needle in group:
                            yield Hit(self.store.name, path.name, locator, needle, structure)
                    start += len(chunk)
                    carried = data[-overlap:] if overlap else b""
        except FileNotFoundError as exc:
            if journal:
                return
            raise StoreUnreadable(self.store.name, f"database file {str(path)!r} is gone") from exc
        except OSError as exc:
            raise StoreUnreadable(
                self.store.name, f"the raw bytes of {path.name!r} were not scanned: {exc}"
            ) from exc

    def _layouts(self, conn: Connection) -> list[TableLayout]:
        """Every table with its columns and row locator, the engine's own ones included.
        Reflected again only when a schema's ``sqlite_master`` changed, which any change
        to a table, index, trigger or view does: a store is scanned after every step."""
        layouts = []
        for schema in self.store.schemas or (None,):
            prefix = f"{self.quote(schema)}." if schema else ""
            master = conn.exec_driver_sql(
                f"SELECT type, name, tbl_name, sql FROM {prefix}sqlite_master ORDER BY rowid"
            ).all()
            rows = tuple(tuple(row) for row in master)
            if schema not in self._reflected or self._reflected[schema][0] != rows:
                self._reflected[schema] = (rows, list(self._reflect(conn, schema)))
            layouts.extend(self._reflected[schema][1])
        return layouts

    def _reflect(self, conn: Connection, schema: str | None) -> Iterator[TableLayout]:
        """Each table of ``schema`` (statistics included, which sampled index keys make
        hold personal values), with its structure, columns and row locator."""
        inspector = sa.inspect(conn)
        names = list(inspector.get_table_names(schema=schema))
        prefix = f"{self.quote(schema)}." if schema else ""
        internal = conn.exec_driver_sql(
            f"SELECT name FROM {prefix}sqlite_master WHERE type = 'table' "
            f"AND name IN {SQLITE_STAT_TABLES!r}"
        )
        names.extend(row[0] for row in internal)
        structures = sqlite_structures(conn, schema)
        for name in names:
            columns = tuple(c["name"] for c in inspector.get_columns(name, schema=schema))
            primary_key = inspector.get_pk_constraint(name, schema=schema)["constrained_columns"]
            source = f"{prefix}{self.quote(name)}"
            locators: tuple[str, ...] = tuple(primary_key) or ("rowid",)
            if not primary_key and not self._has_rowid(conn, source):
                locators = ()
            yield TableLayout(schema, name, structures.get(name, ""), columns, locators)

    def _scan_table(
        self,
        conn: Connection,
        matcher: NeedleMatcher,
        layout: TableLayout,
        decoders: tuple[ValueDecoder, ...] = (),
    ) -> Iterator[Hit]:
        schema, table, structure = layout.schema, layout.name, layout.structure
        columns, locator_columns = list(layout.columns), list(layout.locators)
        if not columns or not matcher:
            return
        source = self.quote(table)
        if schema:
            source = f"{self.quote(schema)}.{source}"
        cells = [f"CAST({self.quote(c)} AS BLOB)" for c in columns]
        where = " OR ".join(
            f"{MATCH_FUNCTION}({', '.join(cells[i : i + MAX_FUNCTION_ARGS])})"
            for i in range(0, len(cells), MAX_FUNCTION_ARGS)
        )
        select = ", ".join([*(self._locator_sql(c) for c in locator_columns), *cells])
        # the driver's own cursor: SQLAlchemy's bookkeeping per statement cost more than
        # the query of a small table, and a store is scanned after every step
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        result = dbapi.execute(f"SELECT {select} FROM {source} WHERE {where}")
        qualified = _qualified(schema, table)
        for row in result:
            locate = functools.cache(
                lambda row=row: (
                    describe_locator(matcher, locator_columns, row[: len(locator_columns)])
                    or "no row id"
                )
            )
            for column, value in zip(columns, row[len(locator_columns) :], strict=True):
                if value is None:
                    continue
                where = f"{qualified}.{column}"
                yield from cell_hits(
                    self.store.name, where, bytes(value), locate, matcher, decoders, structure
                )

    def _locator_sql(self, column: str) -> str:
        return "rowid" if column == "rowid" else self.quote(column)

    def _has_rowid(self, conn: Connection, source: str) -> bool:
        try:
            conn.exec_driver_sql(f"SELECT rowid FROM {source} LIMIT 0")
        except sa.exc.OperationalError:
            return False
        return True


def _digests(paths: list[Path]) -> tuple[tuple[str, bytes | None], ...] | None:
    """Each file's digest (None for one that does not exist); None when together they are
    larger than ``MAX_WITNESSED_BYTES``."""
    digests: list[tuple[str, bytes | None]] = []
    budget = MAX_WITNESSED_BYTES
    for path in paths:
        try:
            with path.open("rb") as file:
                data = file.read(budget + 1)
        except FileNotFoundError:
            digests.append((str(path), None))
            continue
        budget -= len(data)
        if budget < 0:
            return None
        digests.append((str(path), hashlib.blake2b(data).digest()))
    return tuple(digests)


class RowFilter:
    """The SQL function's body: whether a row's cells hold a needle, raw or decoded
    (``searchable.py``). True too for a cell that cannot be decoded (whatever the error:
    inside SQLite a raise loses its message), so Python looks again and reports it.

    What it searched is handed to the matcher's count by ``count()``, once a table: a
    count per row, under the matcher's lock, was a sixth of a scan."""

    def __init__(self, matcher: NeedleMatcher, decoders: tuple[ValueDecoder, ...]) -> None:
        self.matcher = matcher
        self.decoders = decoders
        self.values = self.size = 0

    def __call__(self, *cells: bytes | None) -> bool:
        try:
            text = searchable_row(cells, self.decoders)
        except Exception:
            return True
        self.values += len(cells)
        self.size += len(text)
        return self.matcher.found_in(text)

    def count(self) -> None:
        self.matcher.count_searched(self.values, self.size)
        self.values = self.size = 0


def _qualified(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table
