"""Residue scanning of MariaDB/MySQL: the row as a ``CONCAT_WS`` of its columns.

Binary columns show as hex in the row text. MariaDB's PCRE2 takes the
sieve's union in its stride, so it gets one regex.
"""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .server_sql import PLACEHOLDER, ServerSQLScanner, SievedTable


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
        conn.exec_driver_sql("START TRANSACTION READ ONLY")

    def select(self, table: SievedTable, patterns: list[str]) -> tuple[str, list[str], list[str]]:
        def as_text(column: str) -> str:
            quoted = self.quote(column)
            if column in table.binary:
                return f"LOWER(HEX({quoted}))"
            return f"CONVERT({quoted} USING utf8mb4)"

        row_text = ", ".join(as_text(c) for c in table.columns)
        locators = [self.quote(c) for c in table.primary_key]
        cells = [self.quote(c) for c in table.columns]
        sql = (
            f"SELECT {', '.join(locators + cells)} FROM {table.source} "
            f"WHERE LOWER(CONCAT_WS(CHAR(31 USING utf8mb4), {row_text})) REGEXP {PLACEHOLDER}"
        )
        return sql, table.primary_key, ["|".join(patterns)]
