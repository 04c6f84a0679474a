"""Residue scanning of PostgreSQL: the row as ``t::text``, one regex per sieve pattern.

``t::text`` renders text, json/jsonb, arrays, enums, hstore, xml, numbers
and bytea (as hex) in one value; materialized views, which keep their own
copy of the data, are read as tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .server_sql import PLACEHOLDER, ServerSQLScanner, SievedTable, SieveQuery


class PostgresScanner(ServerSQLScanner):
    system_schemas: ClassVar[frozenset[str]] = frozenset({"pg_catalog", "information_schema"})

    def is_system_schema(self, schema: str) -> bool:
        return super().is_system_schema(schema) or schema.startswith("pg_")

    def stored_views(self, inspector: sa.Inspector, schema: str) -> Iterator[tuple[str, str, str]]:
        for view in inspector.get_materialized_view_names(schema=schema):
            yield schema, view, " (materialized view)"

    def begin_read_only(self, conn: Connection) -> None:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        # The planner expects every row to pass the sieve and so keeps the
        # scan on one core; almost none do, so sharing it out is always cheaper.
        conn.exec_driver_sql("SET LOCAL parallel_setup_cost = 0")
        conn.exec_driver_sql("SET LOCAL parallel_tuple_cost = 0")

    def select(self, table: SievedTable, patterns: list[str]) -> SieveQuery:
        quote = self.quote
        locators = [quote(c) + "::text" for c in table.primary_key] or ["t.ctid::text"]
        names = table.primary_key or ["ctid"]
        cells = [quote(c) if c in table.binary else f"{quote(c)}::text" for c in table.columns]
        row_text = (
            "t::text"
            if table.whole_row
            else f"concat_ws(chr(31), {', '.join(f'{quote(c)}::text' for c in table.columns)})"
        )
        # One regex per pattern: PostgreSQL runs a union of windows slower than each in turn.
        sieve = " OR ".join(f"{row_text} ~* {PLACEHOLDER}" for _ in patterns)
        sql = f"SELECT {', '.join(locators + cells)} FROM {table.source} AS t WHERE {sieve}"
        return SieveQuery(sql, names, patterns)
