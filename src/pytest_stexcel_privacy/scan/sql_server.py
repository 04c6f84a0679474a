"""Residue scanning of PostgreSQL and MariaDB/MySQL, server-side.

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

Sessions are read-only (``SET TRANSACTION READ ONLY`` / ``START TRANSACTION
READ ONLY``). A table the role may not read, or a connection lost mid-scan,
stops the scan with ``StoreUnreadable`` naming the table: fail closed.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from ..contract.stores import SQLStore
from ..errors import StoreUnreadable
from .matcher import NeedleMatcher
from .prefilter import sieve_patterns
from .residue import Hit
from .sql import describe_locator

SYSTEM_SCHEMAS = {
    "postgresql": {"pg_catalog", "information_schema"},
    "mysql": {"information_schema", "mysql", "performance_schema", "sys"},
}
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
PLACEHOLDER = "\x00pattern\x00"  # no identifier can contain NUL; one per sieve pattern


class ServerSQLScanner:
    dialect = ""

    def __init__(self, store: SQLStore, engine: Engine, owns_engine: bool) -> None:
        self.store = store
        self.engine = engine
        self.owns_engine = owns_engine

    def open(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1").scalar()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreUnreadable(self.store.name, f"cannot connect: {_first_line(exc)}") from exc

    def close(self) -> None:
        if self.owns_engine:
            self.engine.dispose()

    def quote(self, identifier: str) -> str:
        return self.engine.dialect.identifier_preparer.quote_identifier(identifier)

    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]:
        if not matcher:
            return
        where = "(listing tables)"
        try:
            with self.engine.connect() as conn:
                self.begin_read_only(conn)
                for schema, table, kind in list(self.tables(conn)):
                    where = f"{schema}.{table}"
                    yield from self.scan_table(conn, matcher, schema, table)
                    scanned.append(f"{self.store.name}: {schema}.{table}{kind}")
                conn.rollback()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreUnreadable(
                self.store.name, f"table {where!r} was not scanned: {_first_line(exc)}"
            ) from exc

    def begin_read_only(self, conn: Connection) -> None:
        raise NotImplementedError

    def bind(self, sql: str) -> str:
        """The patterns' placeholders in the drivers' paramstyle. A "%" in an identifier is
        escaped by SQLAlchemy itself when parameters are passed, as they always are here."""
        return sql.replace(PLACEHOLDER, "%s")

    def tables(self, conn: Connection) -> Iterator[tuple[str, str, str]]:
        inspector = sa.inspect(conn)
        schemas = self.store.schemas or [
            s
            for s in inspector.get_schema_names()
            if s not in SYSTEM_SCHEMAS[self.dialect] and not s.startswith("pg_")
        ]
        for schema in schemas:
            for table in inspector.get_table_names(schema=schema):
                yield schema, table, ""
            if self.dialect == "postgresql":
                for view in inspector.get_materialized_view_names(schema=schema):
                    yield schema, view, " (materialized view)"

    def scan_table(
        self, conn: Connection, matcher: NeedleMatcher, schema: str, table: str
    ) -> Iterator[Hit]:
        inspector = sa.inspect(conn)
        with warnings.catch_warnings():
            # A type SQLAlchemy does not know (xml, a user's own) is simply searched.
            warnings.filterwarnings("ignore", "Did not recognize type", sa.exc.SAWarning)
            columns = inspector.get_columns(table, schema=schema)
        if not columns:
            return
        names = [c["name"] for c in columns if not isinstance(c["type"], INERT_TYPES)]
        if not names:
            return  # no column can hold personal data
        binary = {c["name"] for c in columns if BINARY_TYPES.search(str(c["type"]))}
        primary_key = list(inspector.get_pk_constraint(table, schema=schema)["constrained_columns"])
        source = f"{self.quote(schema)}.{self.quote(table)}"
        patterns = sieve_patterns(matcher.needles, with_hex=bool(binary & set(names)))
        sql, locator_names, parameters = self.select(
            source, names, binary, primary_key, patterns, whole_row=len(names) == len(columns)
        )
        result = conn.exec_driver_sql(self.bind(sql), tuple(parameters))
        for number, row in enumerate(result, start=1):
            locator = describe_locator(matcher, locator_names, row[: len(locator_names)])
            locator = locator or f"no primary key: matching row {number}"
            for column, value in zip(names, row[len(locator_names) :], strict=True):
                if value is None:
                    continue
                data = (
                    bytes(value)
                    if isinstance(value, (bytes, memoryview))
                    else str(value).encode("utf-8", "surrogateescape")
                )
                for _, group in matcher.search(data):
                    for needle in group:
                        yield Hit(self.store.name, f"{schema}.{table}.{column}", locator, needle)

    def select(
        self,
        source: str,
        columns: list[str],
        binary: set[str],
        primary_key: list[str],
        patterns: list[str],
        whole_row: bool,
    ) -> tuple[str, list[str], list[str]]:
        """The query over ``columns`` (all of the table's when ``whole_row``), the names
        of its locator columns, and its parameters."""
        raise NotImplementedError


class PostgresScanner(ServerSQLScanner):
    dialect = "postgresql"

    def begin_read_only(self, conn: Connection) -> None:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        # The planner expects every row to pass the sieve and so keeps the
        # scan on one core; almost none do, so sharing it out is always cheaper.
        conn.exec_driver_sql("SET LOCAL parallel_setup_cost = 0")
        conn.exec_driver_sql("SET LOCAL parallel_tuple_cost = 0")

    def select(
        self,
        source: str,
        columns: list[str],
        binary: set[str],
        primary_key: list[str],
        patterns: list[str],
        whole_row: bool,
    ) -> tuple[str, list[str], list[str]]:
        locators = [self.quote(c) + "::text" for c in primary_key] or ["t.ctid::text"]
        names = primary_key or ["ctid"]
        cells = [self.quote(c) if c in binary else f"{self.quote(c)}::text" for c in columns]
        row_text = (
            "t::text"
            if whole_row
            else f"concat_ws(chr(31), {', '.join(f'{self.quote(c)}::text' for c in columns)})"
        )
        # One regex per pattern: PostgreSQL runs a union of windows slower than each in turn.
        sieve = " OR ".join(f"{row_text} ~* {PLACEHOLDER}" for _ in patterns)
        sql = f"SELECT {', '.join(locators + cells)} FROM {source} AS t WHERE {sieve}"
        return sql, names, patterns


class MariaDBScanner(ServerSQLScanner):
    dialect = "mysql"

    def begin_read_only(self, conn: Connection) -> None:
        conn.exec_driver_sql("START TRANSACTION READ ONLY")

    def select(
        self,
        source: str,
        columns: list[str],
        binary: set[str],
        primary_key: list[str],
        patterns: list[str],
        whole_row: bool,
    ) -> tuple[str, list[str], list[str]]:
        def as_text(column: str) -> str:
            quoted = self.quote(column)
            if column in binary:
                return f"LOWER(HEX({quoted}))"
            return f"CONVERT({quoted} USING utf8mb4)"

        row_text = ", ".join(as_text(c) for c in columns)
        locators = [self.quote(c) for c in primary_key]
        cells = [self.quote(c) for c in columns]
        sql = (
            f"SELECT {', '.join(locators + cells)} FROM {source} "
            f"WHERE LOWER(CONCAT_WS(CHAR(31 USING utf8mb4), {row_text})) REGEXP {PLACEHOLDER}"
        )
        # MariaDB's PCRE2 takes the union in its stride.
        return sql, primary_key, ["|".join(patterns)]


def _first_line(exc: BaseException) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]


SCANNERS: dict[str, type[ServerSQLScanner]] = {
    "postgresql": PostgresScanner,
    "mysql": MariaDBScanner,
    "mariadb": MariaDBScanner,
}
