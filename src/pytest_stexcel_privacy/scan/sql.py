"""Residue scanning of SQL databases, reflected with SQLAlchemy.

Every table the connection can see is read, not only the module's models:
audit, history, log, FTS and SQLite's own statistics tables too. The search
runs inside the database, one pass per table for every needle at once; only
rows that match come back to Python, to be attributed to needles.

PostgreSQL and MariaDB/MySQL are scanned by ``sql_server.py``; this module
opens the store and hands them over.

SQLite: the matcher is registered as a SQL function, and every column is
passed to it as ``CAST(column AS BLOB)``, because SQLite lets any column hold
any type (numbers stored as text, invalid UTF-8, NUL bytes). Files are opened
read-only: the scanner can never change a user's data.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from ..contract.stores import SQLStore
from ..errors import StoreUnreadable
from ..findings.masking import mask
from .matcher import NeedleMatcher
from .residue import Hit

if TYPE_CHECKING:
    from .sql_server import ServerSQLScanner

MATCH_FUNCTION = "stexcel_privacy_match"
# SQLite keeps sampled index keys here; they can hold personal values.
SQLITE_INTERNAL_TABLES = ("sqlite_stat1", "sqlite_stat4")


class SQLScanner:
    def __init__(self, store: SQLStore) -> None:
        self.store = store
        self._engine: Engine | None = None
        self._owns_engine = False
        self._delegate: ServerSQLScanner | None = None  # PostgreSQL, MariaDB/MySQL

    def open(self) -> None:
        if self._delegate is not None:
            self._delegate.open()
            return
        if isinstance(self.store.url, Engine):
            self._engine = self.store.url
        else:
            self._engine = self._create_engine()
            self._owns_engine = True
        dialect = self._engine.dialect.name
        if dialect != "sqlite":
            from .sql_server import SCANNERS

            if dialect not in SCANNERS:
                raise StoreUnreadable(
                    self.store.name,
                    f"scanning {dialect} databases is not supported; SQLite, PostgreSQL and "
                    "MariaDB/MySQL are",
                )
            self._delegate = SCANNERS[dialect](self.store, self._engine, self._owns_engine)
            self._delegate.open()
            return
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreUnreadable(self.store.name, f"cannot open the database: {exc}") from exc

    def _create_engine(self) -> Engine:
        try:
            url = sa.make_url(self.store.url)
        except sa.exc.ArgumentError as exc:
            raise StoreUnreadable(self.store.name, f"not a SQLAlchemy URL: {exc}") from exc
        if url.get_backend_name() != "sqlite":
            connect_args: dict[str, Any] = {}
            if url.get_driver_name() == "pymysql":
                connect_args["max_allowed_packet"] = 1 << 30  # rows far larger than 16 MB
            return sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise StoreUnreadable(
                self.store.name,
                "an in-memory SQLite database is visible only to the connection that made it; "
                "declare SQLStore(engine) with the module's own Engine instead of a URL",
            )
        path = Path(database)
        if not path.is_file():
            raise StoreUnreadable(self.store.name, f"database file {str(path)!r} does not exist")
        uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
        return sa.create_engine(
            "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool
        )

    def close(self) -> None:
        if self._delegate is not None:
            self._delegate.close()
            self._delegate = None
        elif self._engine is not None and self._owns_engine:
            self._engine.dispose()
        self._engine = None

    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]:
        if self._engine is None:
            self.open()
        if self._delegate is not None:
            yield from self._delegate.scan(matcher, scanned)
            return
        assert self._engine is not None
        table = "(listing tables)"
        try:
            with self._engine.connect() as conn:
                dbapi = conn.connection.dbapi_connection
                assert dbapi is not None
                dbapi.create_function(
                    MATCH_FUNCTION,
                    1,
                    lambda value: matcher.matches(value or b""),
                    deterministic=True,
                )
                for schema, table in self._tables(conn):
                    yield from self._scan_table(conn, matcher, schema, table)
                    scanned.append(f"{self.store.name}: {_qualified(schema, table)}")
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreUnreadable(self.store.name, f"table {table!r}: {exc}") from exc

    def _tables(self, conn: Connection) -> Iterator[tuple[str | None, str]]:
        inspector = sa.inspect(conn)
        for schema in self.store.schemas or (None,):
            names = list(inspector.get_table_names(schema=schema))
            prefix = f"{self._quote(schema)}." if schema else ""
            internal = conn.exec_driver_sql(
                f"SELECT name FROM {prefix}sqlite_master WHERE type = 'table' "
                f"AND name IN {SQLITE_INTERNAL_TABLES!r}"
            )
            names.extend(row[0] for row in internal)
            for name in names:
                yield schema, name

    def _quote(self, identifier: str) -> str:
        assert self._engine is not None
        return self._engine.dialect.identifier_preparer.quote_identifier(identifier)

    def _scan_table(
        self, conn: Connection, matcher: NeedleMatcher, schema: str | None, table: str
    ) -> Iterator[Hit]:
        inspector = sa.inspect(conn)
        columns = [c["name"] for c in inspector.get_columns(table, schema=schema)]
        if not columns or not matcher:
            return
        primary_key = inspector.get_pk_constraint(table, schema=schema)["constrained_columns"]
        source = self._quote(table)
        if schema:
            source = f"{self._quote(schema)}.{source}"
        locator_columns = list(primary_key) or ["rowid"]
        if not primary_key and not self._has_rowid(conn, source):
            locator_columns = []
        cells = [f"CAST({self._quote(c)} AS BLOB)" for c in columns]
        where = " OR ".join(f"{MATCH_FUNCTION}({cell})" for cell in cells)
        select = ", ".join([*(self._locator_sql(c) for c in locator_columns), *cells])
        result = conn.exec_driver_sql(f"SELECT {select} FROM {source} WHERE {where}")
        qualified = _qualified(schema, table)
        for row in result:
            locator = describe_locator(matcher, locator_columns, row[: len(locator_columns)])
            locator = locator or "no row id"
            for column, value in zip(columns, row[len(locator_columns) :], strict=True):
                if value is None:
                    continue
                for _, group in matcher.search(bytes(value)):
                    for needle in group:
                        yield Hit(self.store.name, f"{qualified}.{column}", locator, needle)

    def _locator_sql(self, column: str) -> str:
        return "rowid" if column == "rowid" else self._quote(column)

    def _has_rowid(self, conn: Connection, source: str) -> bool:
        try:
            conn.exec_driver_sql(f"SELECT rowid FROM {source} LIMIT 0")
        except sa.exc.OperationalError:
            return False
        return True


def describe_locator(matcher: NeedleMatcher, names: Sequence[str], values: Any) -> str:
    """``id=5`` or ``ctid=(0,3)``; "" when the table has no locator columns."""
    parts = []
    for name, value in zip(names, values, strict=True):
        text = str(value)
        if matcher.matches(text.encode("utf-8", "surrogateescape")):
            text = mask(text)  # a primary key can itself be personal data
        parts.append(f"{name}={text[:60]}")
    return ", ".join(parts)


def _qualified(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table
