"""Residue scanning of database servers (PostgreSQL, MariaDB/MySQL), server-side.

Each table is read once, inside the database, for every needle of every
person at once: the whole row rendered as text (PostgreSQL ``t::text``, which
covers text, json/jsonb, arrays, enums, hstore, xml, numbers and bytea as
hex; MariaDB a ``CONCAT_WS`` of every column, binary columns as hex) is
passed through the sieve of ``prefilter.py``, a handful of character-class
windows that every needle contains. Columns of types that cannot hold a
needle (dates, times, flags, UUIDs, network addresses) are left out of the
row text, so the sieve reads less; when there are any, PostgreSQL's row
text is a ``concat_ws`` of the other columns. The sieve runs in parallel
plans, as the floor does. Only rows passing it come back to
Python, where each column is searched for the needles themselves, to say
which column, which needle and which form.

What differs between servers (the read-only session, the system schemas,
the query) is left to ``postgresql.py`` and ``mariadb.py``; PostgreSQL
reads most tables whole instead of sieving them (``candidate_rows``).

A store is scanned after every step, so the catalogue is read as little as
it can be: PostgreSQL's columns and keys once per schema (``reflect_all``),
not once per table.

MariaDB's system-versioned tables are read with their history; a value found
only in an earlier version of a row (a deleted or changed row) is a hit with
``structure`` "system-versioned history": residue, never a live record.

Sessions are read-only (``SET TRANSACTION READ ONLY`` / ``START TRANSACTION
READ ONLY``). A table the role may not read, or a connection lost mid-scan,
stops the scan with ``StoreUnreadable`` naming the table: fail closed.
"""

from __future__ import annotations

import functools
import re
import warnings
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import ReflectedColumn
from sqlalchemy.pool import NullPool

from ..contract.decoding import ValueDecoder
from ..contract.stores import SQLStore
from ..errors import StoreUnreadable
from .decoders import BUILTIN_VALUE_DECODERS, store_decoders
from .engine_internals import SYSTEM_VERSIONED_HISTORY, server_sql_structure
from .matcher import NeedleMatcher
from .prefilter import sieve_patterns
from .residue import Hit
from .sql_scanner import SQLScanner, cell_hits, describe_locator

BINARY_TYPES = re.compile(r"BYTEA|BLOB|BINARY|VARBINARY|LargeBinary", re.IGNORECASE)
# Column types whose values cannot hold any needle (dates, flags, identifiers,
# network addresses): left out of the sieve, which then reads less. Anything
# not listed here, including types SQLAlchemy does not know, is searched.
INERT_TYPES: tuple[type, ...] = (
    sa.Boolean,
    sa.Date,
    sa.DateTime,
    sa.Time,
    sa.Interval,
    sa.Uuid,
    postgresql.INTERVAL,
    postgresql.INET,
    postgresql.CIDR,
    postgresql.MACADDR,
)
EVERY_ROW = ""  # the empty regex: every row passes (PostgreSQL and MariaDB alike)
STREAM_ROWS = 10_000  # rows fetched at a time from a server-side cursor
PLACEHOLDER = "\x00pattern\x00"  # no identifier can contain NUL; one per sieve pattern


@dataclass(frozen=True)
class SievedTable:
    """A table as the server's query sees it: what it reads, and how to point at a row."""

    source: str  # the quoted schema.table
    columns: list[str]  # the columns that can hold a needle, in order
    binary: set[str]  # columns shown as hex in the row text
    primary_key: list[str]
    whole_row: bool  # ``columns`` are all of the table's
    # The column ending each row version of a system-versioned table (MariaDB), whose
    # history is read too; "" for an ordinary table.
    row_end: str = ""
    place: tuple[str, str] = ("", "")  # (schema, table), as the catalogue names them


@dataclass(frozen=True)
class TableShape:
    """A table's reflected columns and primary key, as the server names them, and the
    column ending each row version if it is system-versioned ("" if not)."""

    columns: list[ReflectedColumn]
    primary_key: list[str]
    row_end: str = ""


@dataclass(frozen=True)
class SieveQuery:
    """The query returning the rows that pass the sieve: ``SELECT`` the locator columns,
    then the table's ``columns``, then, for a versioned table, whether the row is history."""

    sql: str
    locator_names: list[str]
    parameters: list[str]


class ServerSQLScanner(SQLScanner):
    system_schemas: ClassVar[frozenset[str]]  # the server's own, never the module's
    batch_reflection: ClassVar[bool] = False  # whether reflect_all reads a schema at once

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shapes: dict[tuple[str, str], TableShape] = {}  # during a scan: reflect_all's

    @classmethod
    def engine_for(cls, store: SQLStore, url: sa.URL) -> Engine:
        return sa.create_engine(url, poolclass=NullPool, connect_args=cls.connect_args(url))

    @classmethod
    def connect_args(cls, url: sa.URL) -> dict[str, Any]:
        """The driver's options for a scan; none unless the server needs some."""
        return {}

    def open(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1").scalar()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreUnreadable(self.store.name, f"cannot connect: {_first_line(exc)}") from exc

    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]:
        if not matcher:
            return
        where = "(listing tables)"
        try:
            with self.engine.connect() as conn:
                self.begin_read_only(conn)
                tables = list(self.tables(conn))
                where = "(reflecting tables)"
                self._shapes = self.reflect_all(conn, {schema for schema, _, _ in tables})
                for schema, table, kind in tables:
                    where = f"{schema}.{table}"
                    yield from self.scan_table(conn, matcher, schema, table)
                    scanned.append(f"{self.store.name}: {schema}.{table}{kind}")
                for where, objects in self.database_objects():
                    yield from objects(conn, matcher)
                    scanned.append(f"{self.store.name}: {where}")
                conn.rollback()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreUnreadable(
                self.store.name, f"table {where!r} was not scanned: {_first_line(exc)}"
            ) from exc
        finally:
            self._shapes = {}

    def reflect_all(self, conn: Connection, schemas: set[str]) -> dict[tuple[str, str], TableShape]:
        """Every table's columns and primary key, by ``(schema, table)``, read in one
        catalogue query per schema where the dialect can (``batch_reflection``): a store is
        scanned after every step, and a query per table per scan cost more than reading
        the rows of a small schema. A table missing here is reflected on its own."""
        if not self.batch_reflection:
            return {}
        inspector = sa.inspect(conn)
        shapes: dict[tuple[str, str], TableShape] = {}
        with _reflection_warnings_ignored():
            for schema in sorted(schemas):
                kind = sa.engine.reflection.ObjectKind.ANY
                columns = inspector.get_multi_columns(schema=schema, kind=kind)
                keys = {
                    table: list(key["constrained_columns"])
                    for (_, table), key in inspector.get_multi_pk_constraint(
                        schema=schema, kind=kind
                    ).items()
                }
                for (_, table), reflected in columns.items():
                    shapes[schema, table] = TableShape(list(reflected), keys.get(table, []))
        return shapes

    @abstractmethod
    def begin_read_only(self, conn: Connection) -> None:
        """Start the scan's transaction so that it cannot write, and so that no query and
        no wait for a lock takes longer than ``self.timeout``."""

    def database_objects(
        self,
    ) -> list[tuple[str, Callable[[Connection, NeedleMatcher], Iterator[Hit]]]]:
        """What the database holds outside its tables, each as ``(name, scan)``."""
        return []

    def bind(self, sql: str) -> str:
        """The patterns' placeholders in the drivers' paramstyle. A "%" in an identifier is
        escaped by SQLAlchemy itself when parameters are passed, as they always are here."""
        return sql.replace(PLACEHOLDER, "%s")

    def tables(self, conn: Connection) -> Iterator[tuple[str, str, str]]:
        inspector = sa.inspect(conn)
        schemas = self.store.schemas or [
            s for s in inspector.get_schema_names() if not self.is_system_schema(s)
        ]
        for schema in schemas:
            for table in inspector.get_table_names(schema=schema):
                yield schema, table, ""
            yield from self.stored_views(inspector, schema)

    def is_system_schema(self, schema: str) -> bool:
        return schema in self.system_schemas

    def stored_views(self, inspector: sa.Inspector, schema: str) -> Iterator[tuple[str, str, str]]:
        """Views that keep their own copy of the data, as ``(schema, name, " (kind)")``."""
        return iter(())

    def scan_table(
        self, conn: Connection, matcher: NeedleMatcher, schema: str, table: str
    ) -> Iterator[Hit]:
        reflected = self._shapes.get((schema, table))
        if reflected is None:
            inspector = sa.inspect(conn)
            with _reflection_warnings_ignored():
                columns = inspector.get_columns(table, schema=schema)
            constraint = inspector.get_pk_constraint(table, schema=schema)
            reflected = TableShape(columns, list(constraint["constrained_columns"]))
        if not reflected.columns:
            return
        shape = self.table_details(conn, schema, table, reflected)
        columns, primary_key, row_end = shape.columns, shape.primary_key, shape.row_end
        names = [c["name"] for c in columns if not isinstance(c["type"], INERT_TYPES)]
        if not names:
            return  # no column can hold personal data
        binary = {c["name"] for c in columns if BINARY_TYPES.search(str(c["type"]))}
        sieved = SievedTable(
            source=f"{self.quote(schema)}.{self.quote(table)}",
            columns=names,
            binary=binary,
            primary_key=primary_key,
            whole_row=len(names) == len(columns),
            row_end=row_end,
            place=(schema, table),
        )
        decoders = store_decoders(self.store.name, self.store.decoders)
        locator_names, result = self.candidate_rows(conn, sieved, matcher, decoders)
        live_structure = server_sql_structure(self.engine.dialect.name, schema, table)
        found: list[Hit] = []
        for number, row in enumerate(result, start=1):
            locate = functools.cache(
                lambda row=row, number=number: (
                    describe_locator(matcher, locator_names, row[: len(locator_names)])
                    or f"no primary key: matching row {number}"
                )
            )
            cells = row[len(locator_names) : len(locator_names) + len(names)]
            structure = SYSTEM_VERSIONED_HISTORY if row_end and row[-1] else live_structure
            for column, value in zip(names, cells, strict=True):
                if value is None:
                    continue
                data = (
                    bytes(value)
                    if isinstance(value, (bytes, memoryview))
                    else str(value).encode("utf-8", "surrogateescape")
                )
                where = f"{schema}.{table}.{column}"
                found.extend(
                    cell_hits(self.store.name, where, data, locate, matcher, decoders, structure)
                )
        yield from _history_only_where_not_live(found, keyed_by_locator=bool(primary_key))

    def candidate_rows(
        self,
        conn: Connection,
        table: SievedTable,
        matcher: NeedleMatcher,
        decoders: tuple[ValueDecoder, ...],
    ) -> tuple[list[str], Iterable[Sequence[Any]]]:
        """The names of the locator columns, and every row that may hold a needle (or an
        encoded value): the locators, the cells of ``table.columns``, then, for a versioned
        table, whether the row is history. The rows that pass the server's sieve, unless
        the server has a better way."""
        patterns = sieve_patterns(
            matcher.needles,
            with_hex=bool(table.binary & set(table.columns)),
            encoded=bool(decoders),
        )
        if decoders != BUILTIN_VALUE_DECODERS:
            # a decoder of the store's own may recognise any value, which no sieve can know
            patterns = [EVERY_ROW]
        query = self.select(table, patterns)
        result = conn.exec_driver_sql(
            self.bind(query.sql),
            tuple(query.parameters),
            # a server-side cursor, fetched in large batches: every row may pass the sieve
            execution_options={"stream_results": True, "max_row_buffer": STREAM_ROWS},
        )
        return query.locator_names, result

    def table_details(
        self, conn: Connection, schema: str, table: str, reflected: TableShape
    ) -> TableShape:
        """The table as the server describes it; SQLAlchemy's reflection unless the
        server's own catalogue says more."""
        return reflected

    @abstractmethod
    def select(self, table: SievedTable, patterns: list[str]) -> SieveQuery:
        """The query returning the rows that pass the sieve ``patterns``."""


def _history_only_where_not_live(hits: list[Hit], keyed_by_locator: bool) -> list[Hit]:
    """The hits, less those in a row's history that its current version still holds (the
    same value in the same column of the same row, or of any row if rows have no key)."""

    def key(hit: Hit) -> tuple[object, ...]:
        return (hit.location, hit.locator if keyed_by_locator else "", hit.needle)

    live = {key(hit) for hit in hits if hit.structure != SYSTEM_VERSIONED_HISTORY}
    return [h for h in hits if h.structure != SYSTEM_VERSIONED_HISTORY or key(h) not in live]


@contextmanager
def _reflection_warnings_ignored() -> Iterator[None]:
    with warnings.catch_warnings():
        # A type SQLAlchemy does not know (xml, a user's own) is simply searched.
        warnings.filterwarnings("ignore", "Did not recognize type", sa.exc.SAWarning)
        # MariaDB's PERIOD FOR SYSTEM_TIME, which table_details reads itself.
        warnings.filterwarnings("ignore", "Unknown schema content", sa.exc.SAWarning)
        yield


def _first_line(exc: BaseException) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
