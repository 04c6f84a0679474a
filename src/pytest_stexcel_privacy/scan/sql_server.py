"""Residue scanning of PostgreSQL and MariaDB/MySQL, server-side.

Each table is read once, inside the database, for every needle of every
person at once: the whole row rendered as text (PostgreSQL ``t::text``, which
covers text, json/jsonb, arrays, enums, hstore, xml, numbers and bytea as
hex; MariaDB a ``CONCAT_WS`` of every column, binary columns as hex) is
matched against one regular expression of all needles. Only matching rows
come back to Python, where each column is searched again to say which
column, which needle and which form; that second look also discards the
rare false match of a hex needle at an odd offset.

Sessions are read-only (``SET TRANSACTION READ ONLY`` / ``START TRANSACTION
READ ONLY``). A table the role may not read, or a connection lost mid-scan,
stops the scan with ``StoreUnreadable`` naming the table: fail closed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import StoreUnreadable
from ..masking import mask
from ..needles import Needle
from ..stores import SQLStore
from .matcher import NeedleMatcher
from .residue import Hit

SYSTEM_SCHEMAS = {
    "postgresql": {"pg_catalog", "information_schema"},
    "mysql": {"information_schema", "mysql", "performance_schema", "sys"},
}
BINARY_TYPES = re.compile(r"BYTEA|BLOB|BINARY|VARBINARY|LargeBinary", re.IGNORECASE)
PLACEHOLDER = "\x00pattern\x00"  # no identifier can contain NUL


def needle_pattern(needles: Sequence[Needle], with_hex: bool) -> str:
    """One alternation of every needle, lower-cased, regex-escaped (and hex-encoded)."""
    texts = sorted({n.text.lower() for n in needles}, key=len, reverse=True)
    parts = [re.escape(t) for t in texts]
    if with_hex:
        parts.extend(sorted({n.key.hex() for n in needles}))
    return "|".join(parts)


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

    def condition(
        self, sql: str, matcher: NeedleMatcher, binary: set[str]
    ) -> tuple[str, list[Any]]:
        """The select with its row filter filled in, and the filter's parameters."""
        return sql, [needle_pattern(matcher.needles, with_hex=bool(binary))]

    def bind(self, sql: str) -> str:
        """The pattern's placeholder in the drivers' paramstyle. A "%" in an identifier is
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
        columns = inspector.get_columns(table, schema=schema)
        if not columns:
            return
        binary = {c["name"] for c in columns if BINARY_TYPES.search(str(c["type"]))}
        primary_key = list(inspector.get_pk_constraint(table, schema=schema)["constrained_columns"])
        source = f"{self.quote(schema)}.{self.quote(table)}"
        sql, locator_names = self.select(source, [c["name"] for c in columns], binary, primary_key)
        sql, params = self.condition(sql, matcher, binary)
        result = conn.exec_driver_sql(self.bind(sql), tuple(params))
        names = [c["name"] for c in columns]
        for number, row in enumerate(result, start=1):
            locator = _locator(matcher, locator_names, row[: len(locator_names)], number)
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
        self, source: str, columns: list[str], binary: set[str], primary_key: list[str]
    ) -> tuple[str, list[str]]:
        raise NotImplementedError


@dataclass(frozen=True)
class Anchors:
    """Short, exact pieces every needle contains, grouped by how PostgreSQL finds them.

    A regular expression of a thousand alternatives costs PostgreSQL a thousand
    comparisons per character; instead each row is cut into maximal runs
    of one character class (consonant runs for canaries, digit runs for phones
    and cards, hex runs for hashes, base64 runs), and only those runs are
    searched for the anchors. Every needle has an anchor in one of the sets, or falls back
    to the (short) alternation, so the prefilter can only over-select; Python
    then verifies each selected row exactly.
    """

    canaries: tuple[str, ...]
    digits: tuple[str, ...]  # last ten digits of phone and card needles
    hexes: tuple[str, ...]  # first 32 characters of hash needles
    base64: tuple[str, ...]  # first 12 characters of the remaining needles
    rest: tuple[str, ...]  # needles with none of the above: searched by alternation


CANARY_CLASS = "[bcdfghjklmnpqrstvwxz]"
DIGIT_WINDOW, HEX_WINDOW, B64_WINDOW = 10, 32, 12


def anchors(needles: Sequence[Needle]) -> Anchors:
    canaries: set[str] = set()
    digits: set[str] = set()
    hexes: set[str] = set()
    base64: set[str] = set()
    rest: set[str] = set()
    for needle in needles:
        text = needle.text.lower()
        canary = needle.person.lower()
        only_digits = re.sub(r"\D", "", text)
        if len(canary) >= 7 and canary in text and re.fullmatch(f"{CANARY_CLASS}+", canary):
            canaries.add(canary)
        elif len(only_digits) >= DIGIT_WINDOW and re.fullmatch(r"[\d\s().+-]+", text):
            digits.add(only_digits[-DIGIT_WINDOW:])
        elif len(text) >= HEX_WINDOW and re.fullmatch(r"[0-9a-f]+", text):
            hexes.add(text[:HEX_WINDOW])
        elif len(text) >= B64_WINDOW and re.fullmatch(r"[a-z0-9+/]+", text[:B64_WINDOW]):
            base64.add(text[:B64_WINDOW])
        else:
            rest.add(text)
    return Anchors(*(tuple(sorted(group)) for group in (canaries, digits, hexes, base64, rest)))


class PostgresScanner(ServerSQLScanner):
    dialect = "postgresql"

    def condition(
        self, sql: str, matcher: NeedleMatcher, binary: set[str]
    ) -> tuple[str, list[Any]]:
        head, _, row_text = sql.rpartition(" WHERE ")
        where, params = self.where(row_text, anchors(matcher.needles))
        return f"{head} WHERE {where}", params

    def where(self, row_text: str, found: Anchors) -> tuple[str, list[Any]]:
        conditions: list[str] = []
        params: list[Any] = []

        def windows(source: str, cls: str, size: int, values: tuple[str, ...]) -> None:
            if values:
                # Maximal runs of the class (regexp_matches does not overlap), each
                # searched for every anchor: rows without a long run cost one scan.
                conditions.append(
                    f"({source} ~ '{cls}{{{size}}}' AND EXISTS (SELECT 1 FROM regexp_matches("
                    f"{source}, '{cls}{{{size},}}', 'g') AS run, "
                    f"unnest({PLACEHOLDER}::text[]) AS anchor WHERE strpos(run[1], anchor) > 0))"
                )
                params.append(list(values))

        windows(row_text, CANARY_CLASS, 7, found.canaries)
        digits = f"regexp_replace({row_text}, '[^0-9]', '', 'g')"
        windows(digits, "[0-9]", DIGIT_WINDOW, found.digits)
        windows(row_text, "[0-9a-f]", HEX_WINDOW, found.hexes)
        windows(row_text, "[a-z0-9+/]", B64_WINDOW, found.base64)
        if found.rest:
            conditions.append(f"{row_text} ~ {PLACEHOLDER}")
            params.append("|".join(re.escape(t) for t in sorted(found.rest, key=len, reverse=True)))
        return " OR ".join(conditions) or "FALSE", params

    def begin_read_only(self, conn: Connection) -> None:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")

    def select(
        self, source: str, columns: list[str], binary: set[str], primary_key: list[str]
    ) -> tuple[str, list[str]]:
        locators = [self.quote(c) + "::text" for c in primary_key] or ["t.ctid::text"]
        names = primary_key or ["ctid"]
        cells = [self.quote(c) if c in binary else f"{self.quote(c)}::text" for c in columns]
        # bytea renders as hex in t::text; its escaped form keeps ASCII text readable.
        extra = "".join(
            f" || ' ' || coalesce(encode({self.quote(c)}, 'escape'), '')" for c in sorted(binary)
        )
        row_text = f"lower(t::text{extra})"
        sql = f"SELECT {', '.join(locators + cells)} FROM {source} AS t WHERE {{where}}"
        return sql.replace("{where}", row_text), names


class MariaDBScanner(ServerSQLScanner):
    dialect = "mysql"

    def begin_read_only(self, conn: Connection) -> None:
        conn.exec_driver_sql("START TRANSACTION READ ONLY")

    def select(
        self, source: str, columns: list[str], binary: set[str], primary_key: list[str]
    ) -> tuple[str, list[str]]:
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
        return sql, primary_key


def _locator(matcher: NeedleMatcher, names: list[str], values: Any, number: int) -> str:
    if not names:
        return f"no primary key: matching row {number}"
    parts = []
    for name, value in zip(names, values, strict=True):
        text = str(value)
        if matcher.matches(text.encode("utf-8", "surrogateescape")):
            text = mask(text)  # a primary key can itself be personal data
        parts.append(f"{name}={text[:60]}")
    return ", ".join(parts)


def _first_line(exc: BaseException) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]


SCANNERS: dict[str, type[ServerSQLScanner]] = {
    "postgresql": PostgresScanner,
    "mysql": MariaDBScanner,
    "mariadb": MariaDBScanner,
}
