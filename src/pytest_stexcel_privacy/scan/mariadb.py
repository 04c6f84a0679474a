"""Residue scanning of MariaDB/MySQL: the row as a ``CONCAT_WS`` of its columns.

Binary columns show as hex in the row text. MariaDB's PCRE2 takes the
sieve's union in its stride, so it gets one regex.

A system-versioned table (``WITH SYSTEM VERSIONING``) keeps every earlier
version of its rows, deleted ones too: it is read ``FOR SYSTEM_TIME ALL``,
and a row that is no longer current is marked as history.

Column names come from ``information_schema``: SQLAlchemy's reflection
(which parses ``SHOW CREATE TABLE``) leaves a backtick in a name doubled.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .server_sql import PLACEHOLDER, ServerSQLScanner, SievedTable, SieveQuery, TableShape

# The row-end column MariaDB adds, invisibly, when a table does not name its own.
IMPLICIT_ROW_END = "row_end"


class MariaDBScanner(ServerSQLScanner):
    system_schemas: ClassVar[frozenset[str]] = frozenset(
        {"information_schema", "mysql", "performance_schema", "sys"}
    )

    @classmethod
    def connect_args(cls, url: sa.URL) -> dict[str, Any]:
        if url.get_driver_name() == "pymysql":
            return {"max_allowed_packet": 1 << 30}  # rows far larger than 16 MB
        return {}

    def begin_read_only(self, conn: Connection) -> None:
        seconds = max(1, math.ceil(self.timeout))
        statement_time = (  # MariaDB counts in seconds, MySQL (SELECTs only) in milliseconds
            f"max_statement_time = {self.timeout:.3f}"
            if getattr(conn.dialect, "is_mariadb", False)
            else f"max_execution_time = {max(1, round(self.timeout * 1000))}"
        )
        conn.exec_driver_sql(f"SET SESSION {statement_time}, lock_wait_timeout = {seconds}")
        conn.exec_driver_sql("START TRANSACTION READ ONLY")

    def table_details(
        self, conn: Connection, schema: str, table: str, reflected: TableShape
    ) -> TableShape:
        columns, primary_key = reflected.columns, reflected.primary_key
        listed = conn.exec_driver_sql(
            "SELECT column_name, generation_expression FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        ).all()
        if len(listed) != len(columns):
            raise sa.exc.InvalidRequestError(
                f"{len(listed)} columns listed but {len(columns)} reflected"
            )
        real = {c["name"]: name for c, (name, _) in zip(columns, listed, strict=True)}
        columns = [{**c, "name": real[c["name"]]} for c in columns]
        primary_key = [real.get(name, name) for name in primary_key]
        kind = conn.exec_driver_sql(
            "SELECT table_type FROM information_schema.tables "
            "WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        ).scalar()
        row_end = ""
        if kind == "SYSTEM VERSIONED":
            named = [name for name, generated in listed if generated == "ROW END"]
            row_end = named[0] if named else IMPLICIT_ROW_END
            # MariaDB adds the row end to every key; a row's versions share the rest.
            primary_key = [name for name in primary_key if name != row_end]
        return TableShape(columns, primary_key, row_end)

    def select(self, table: SievedTable, patterns: list[str]) -> SieveQuery:
        def as_text(column: str) -> str:
            quoted = self.quote(column)
            if column in table.binary:
                return f"LOWER(HEX({quoted}))"
            return f"CONVERT({quoted} USING utf8mb4)"

        row_text = ", ".join(as_text(c) for c in table.columns)
        locators = [self.quote(c) for c in table.primary_key]
        cells = [self.quote(c) for c in table.columns]
        selected = locators + cells
        source = table.source
        if table.row_end:
            # Current rows all end at the same "never" (2038 or 2106, or the largest
            # transaction id); any row ending before it is history.
            row_end = self.quote(table.row_end)
            selected.append(f"NOT ({row_end} <=> (SELECT {row_end} FROM {source} LIMIT 1))")
            source += " FOR SYSTEM_TIME ALL"
        sql = (
            f"SELECT {', '.join(selected)} FROM {source} "
            f"WHERE LOWER(CONCAT_WS(CHAR(31 USING utf8mb4), {row_text})) REGEXP {PLACEHOLDER}"
        )
        return SieveQuery(sql, table.primary_key, ["|".join(patterns)])
