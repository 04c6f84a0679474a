"""Residue scanning of PostgreSQL: each table read once, in page ranges over several
connections sharing the scan's snapshot (``pg_ranges.py``), or as one COPY stream
where that cannot be had, and searched as it arrives (``copy_stream.py``); tables the
stream cannot show as the decoders need (binary columns, shown as hex) through the
sieve, one regex per pattern. The scan's transaction is ``REPEATABLE READ READ ONLY``:
one snapshot for every table and every connection.

``t::text`` renders text, json/jsonb, arrays, enums, hstore, xml, numbers
and bytea (as hex) in one value; materialized views, which keep their own
copy of the data, are read as tables.

A partitioned table is read through its leaf partitions, each once (the
parent holds no rows of its own). Large objects (``pg_largeobject``) are
read too, each as bytes. A table whose row-level security hides rows from
the scanning role (the role is neither a superuser nor ``BYPASSRLS``, and
the policy applies to it) cannot be scanned to the end: ``StoreUnreadable``
naming it, as is a large object the role may not read. ``lock_timeout`` and
``statement_timeout`` end a wait on a table the module keeps locked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..contract.decoding import ValueDecoder
from ..errors import StoreUnreadable
from .copy_stream import LOCATOR_MARK, blocks, copy_fields, stream_search
from .decoders import BUILTIN_VALUE_DECODERS
from .matcher import NeedleMatcher
from .pg_ranges import RANGE_BYTES, RangeReader, TableRead, connections_wanted

if TYPE_CHECKING:
    import psycopg
from .residue import Hit
from .server_sql import PLACEHOLDER, ServerSQLScanner, SievedTable, SieveQuery, TableShape

LARGE_OBJECTS = "pg_largeobject"
# A table up to this many bytes is one range of the range readers anyway (``pg_ranges``):
# it is streamed on the scan's own connection instead.
STREAMED_UP_TO = RANGE_BYTES
LARGE_OBJECT_CHUNK = 8 << 20  # bytes read from a large object at a time


@dataclass(frozen=True)
class _Size:
    """A table's size on disk, read for every table of a scan in one query: its kind
    (``pg_class.relkind``), its pages, its bytes (``pg_table_size``), and whether the
    scanning role may read it."""

    kind: str
    pages: int
    size: int
    readable: bool

    def holds_no_row(self) -> bool:
        """A table or materialized view without a page holds no row the scan's snapshot
        can see: a row the snapshot sees keeps its page while the scan's transaction
        lasts (vacuum spares it), and a table truncated since shows empty to the scan
        anyway. Such a table is not queried, saving a query per empty table per scan
        (most of an ERP's tables, most of the time). A foreign table has no pages of its
        own and is always read; so is one the role may not read, to say so."""
        return self.kind in ("r", "m") and self.pages == 0 and self.readable


class PostgresScanner(ServerSQLScanner):
    system_schemas: ClassVar[frozenset[str]] = frozenset({"pg_catalog", "information_schema"})
    batch_reflection: ClassVar[bool] = True
    # The scan's range reader (``scan``); outside a scan there is none, and no other is
    # opened, since nothing would close it: tables are COPY streams there.
    _reader: RangeReader | None = None
    _reader_tried = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # During a scan: whether row-level security is active for this role on each table
        # of the scanned schemas, read at once (``reflect_all``); one missing is asked alone.
        self._row_security: dict[tuple[str, str], bool] = {}
        # During a scan: each table's size, read at once with the above (``_Size``).
        self._sizes: dict[tuple[str, str], _Size] = {}

    def is_system_schema(self, schema: str) -> bool:
        return super().is_system_schema(schema) or schema.startswith("pg_")

    def tables(self, conn: Connection) -> Iterator[tuple[str, str, str]]:
        """Every table, a partitioned one as its leaf partitions, each once. The partitioned
        tables go first, so that a leaf the listing named before its parent is still
        reported as a partition."""
        seen: set[tuple[str, str]] = set()
        leaves_of = self._leaves(conn)
        listed = [(*place, leaves_of.get(place[:2], [])) for place in super().tables(conn)]
        listed.sort(key=lambda entry: not entry[3])
        for schema, table, kind, leaves in listed:
            for place in leaves or [(schema, table)]:
                if place not in seen:
                    seen.add(place)
                    yield *place, (kind if place == (schema, table) else " (partition)")

    def _leaves(self, conn: Connection) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """The leaf partitions of every partitioned table, in one query."""
        leaves: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, leaf_schema, leaf in conn.exec_driver_sql(
            "SELECT n.nspname, c.relname, ln.nspname, l.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN LATERAL pg_partition_tree(c.oid) AS tree "
            "JOIN pg_class l ON l.oid = tree.relid "
            "JOIN pg_namespace ln ON ln.oid = l.relnamespace "
            "WHERE c.relkind = 'p' AND tree.isleaf"
        ):
            leaves.setdefault((schema, table), []).append((leaf_schema, leaf))
        return leaves

    def reflect_all(self, conn: Connection, schemas: set[str]) -> dict[tuple[str, str], TableShape]:
        self._row_security, self._sizes = {}, {}
        # Sizing a table waits for its lock: one that someone locks (or waits to lock)
        # exclusively is sized alone when it is read, so that its wait names it.
        for schema, table, active, readable, kind, pages, size in conn.exec_driver_sql(
            "SELECT n.nspname, c.relname, row_security_active(c.oid), "
            "has_table_privilege(c.oid, 'SELECT'), c.relkind, "
            "CASE WHEN l.relation IS NULL THEN "
            "pg_relation_size(c.oid) / current_setting('block_size')::int END, "
            "CASE WHEN l.relation IS NULL THEN pg_table_size(c.oid) END FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN (SELECT DISTINCT relation FROM pg_locks "
            "WHERE mode = 'AccessExclusiveLock' AND relation IS NOT NULL) l "
            "ON l.relation = c.oid "
            "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'm', 'f')",
            (sorted(schemas),),
        ):
            self._row_security[schema, table] = bool(active)
            if pages is not None and size is not None:
                self._sizes[schema, table] = _Size(kind, int(pages), int(size), bool(readable))
        return super().reflect_all(conn, schemas)

    def stored_views(self, inspector: sa.Inspector, schema: str) -> Iterator[tuple[str, str, str]]:
        for view in inspector.get_materialized_view_names(schema=schema):
            yield schema, view, " (materialized view)"

    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]:
        self._reader, self._reader_tried = None, False
        try:
            yield from super().scan(matcher, scanned)
        finally:
            if self._reader is not None:
                self._reader.close()
            self._reader, self._reader_tried = None, True
            self._row_security, self._sizes = {}, {}

    def begin_read_only(self, conn: Connection) -> None:
        # One snapshot for the whole scan, which the range readers import (pg_ranges.py).
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        milliseconds = max(1, round(self.timeout * 1000))
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")
        # The planner expects every row to pass the sieve and so keeps the
        # scan on one core; almost none do, so sharing it out is always cheaper.
        conn.exec_driver_sql("SET LOCAL parallel_setup_cost = 0")
        conn.exec_driver_sql("SET LOCAL parallel_tuple_cost = 0")

    def scan_table(
        self, conn: Connection, matcher: NeedleMatcher, schema: str, table: str
    ) -> Iterator[Hit]:
        hidden = self._row_security.get((schema, table))
        if hidden is None:
            hidden = conn.exec_driver_sql(
                "SELECT row_security_active(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s",
                (schema, table),
            ).scalar()
        if hidden:
            raise StoreUnreadable(
                self.store.name,
                f"table '{schema}.{table}' was not scanned: row-level security hides rows "
                "from this role; scan as a role with BYPASSRLS (or the table's owner, "
                "unless it FORCEs row-level security)",
            )
        return super().scan_table(conn, matcher, schema, table)

    def candidate_rows(
        self,
        conn: Connection,
        table: SievedTable,
        matcher: NeedleMatcher,
        decoders: tuple[ValueDecoder, ...],
    ) -> tuple[list[str], Iterable[Sequence[Any]]]:
        """The table read in ranges of pages over several connections (``pg_ranges.py``),
        or streamed once (``copy_stream.py``) where those cannot be had, and searched as
        it arrives; where the stream shows every cell as the decoders need it: not for
        binary columns (shown as hex), whose tables go through the sieve. With decoders
        of the store's own or installed ones, which may recognise any value, every line is
        read back (the sieve lets through only values that look like a built-in encoding).
        psycopg 3 only."""
        try:
            import psycopg
        except ImportError:  # another driver (psycopg2, asyncpg)
            return super().candidate_rows(conn, table, matcher, decoders)
        raw = conn.connection.driver_connection
        if not isinstance(raw, psycopg.Connection) or table.binary & set(table.columns):
            return super().candidate_rows(conn, table, matcher, decoders)
        quote = self.quote
        locators = [f"{quote(c)}::text" for c in table.primary_key] or ["t.ctid::text"]
        cells = [f"{quote(c)}::text" for c in table.columns]
        every = decoders != BUILTIN_VALUE_DECODERS
        names = table.primary_key or ["ctid"]
        # quoted for a paramstyle, but these queries are sent bare
        bare = [e.replace("%%", "%") for e in locators + cells]
        source = table.source.replace("%%", "%")
        known = self._sizes.get(table.place)
        if known is not None and known.holds_no_row():
            return names, []
        # A table of one range is read as fast as a stream on the scan's own connection:
        # a scan of small tables then opens no other (their opening was a quarter of it).
        one_range = known is not None and known.size <= STREAMED_UP_TO
        reader = None if one_range else self.range_reader(conn)
        if reader is not None:
            if known is not None:
                pages, size = known.pages, known.size
            else:
                pages, size = conn.exec_driver_sql(
                    "SELECT pg_relation_size(CAST(%s AS regclass)) / "
                    "current_setting('block_size')::int, pg_table_size(CAST(%s AS regclass))",
                    (source, source),
                ).one()
            per_range = max(1, RANGE_BYTES * pages // max(size, 1))
            read = TableRead(
                source, bare[: len(locators)], bare[len(locators) :], pages, per_range, every
            )
            return names, self.read_rows(reader, read, matcher)
        mark = f"'{LOCATOR_MARK}' || "
        fields = [mark + e for e in bare[: len(locators)]] + bare[len(locators) :]
        sql = f"COPY (SELECT {', '.join(fields)} FROM {source} AS t) TO STDOUT"
        return names, self.streamed_rows(
            raw, sql, matcher, len(locators), len(locators) + len(cells), every
        )

    def range_reader(self, conn: Connection) -> RangeReader | None:
        """The scan's range reader, opened at its first table of more than one range;
        ``None`` where the server cannot share the snapshot or scan by page range (before
        14, a standby), or will not take more connections: then one COPY stream on the
        scan's connection. A module's own engine (``SQLStore(engine)``) lends no
        connections for it: its pool is the module's, and a full one would make each scan
        wait its timeout."""
        if self._reader_tried:
            return self._reader
        self._reader_tried = True
        if not self.owns_engine:
            return None
        version, standby = conn.exec_driver_sql(
            "SELECT current_setting('server_version_num')::int, pg_is_in_recovery()"
        ).one()
        if version < 140000 or standby:
            return None
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        # The scan's connections named alike, so that an operator sees them as one.
        name = f"stexcel-privacy scan {snapshot}"
        conn.exec_driver_sql(f"SET LOCAL application_name = '{name}'")
        milliseconds = max(1, round(self.timeout * 1000))
        opened: list[Any] = []

        def close() -> None:
            for proxy in opened:
                proxy.close()

        import psycopg

        try:
            for _ in range(connections_wanted()):
                opened.append(self.engine.raw_connection())
                raw = opened[-1].driver_connection
                if not isinstance(raw, psycopg.Connection):
                    close()
                    return None
                for statement in (
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                    f"SET TRANSACTION SNAPSHOT '{snapshot}'",
                    f"SET LOCAL lock_timeout = {milliseconds}",
                    f"SET LOCAL statement_timeout = {milliseconds}",
                    # the rows come in the client's encoding, the needles are UTF-8
                    "SET LOCAL client_encoding TO 'UTF8'",
                    "SET LOCAL enable_tidscan = on",
                    f"SET LOCAL application_name = '{name}'",
                ):
                    raw.execute(statement)
        except (sa.exc.SQLAlchemyError, psycopg.Error):
            close()
            return None
        self._reader = RangeReader([proxy.driver_connection for proxy in opened], close)
        return self._reader

    def read_rows(
        self, reader: RangeReader, table: TableRead, matcher: NeedleMatcher
    ) -> Iterator[list[Any]]:
        """``reader``'s rows; a failure is the driver's error, so the scan names the table."""
        import psycopg

        try:
            yield from reader.rows(table, matcher)
        except psycopg.Error as exc:
            raise sa.exc.DBAPIError(table.joined_sql(0, None), None, exc) from exc

    def streamed_rows(
        self,
        raw: psycopg.Connection[Any],
        sql: str,
        matcher: NeedleMatcher,
        locators: int,
        cells_per_line: int,
        every: bool,
    ) -> Iterator[list[Any]]:
        """The lines of ``sql``'s stream worth reading, each as its locator values (text)
        and cells (bytes, ``None`` for NULL). A failure is the driver's error, so the
        scan names the table."""
        import psycopg

        search = stream_search(matcher)
        try:
            with raw.cursor() as cursor:
                # the stream comes in the client's encoding, the needles are UTF-8
                cursor.execute("SET LOCAL client_encoding TO 'UTF8'")
                with cursor.copy(sql) as copy:
                    for block in blocks(copy):
                        lines = block.count(b"\n")
                        matcher.count_searched(lines * (cells_per_line - locators), len(block))
                        for line in search.lines(block, every):
                            fields = copy_fields(line)
                            keys = [_text(f)[len(LOCATOR_MARK) :] for f in fields[:locators]]
                            yield [*keys, *fields[locators:]]
        except psycopg.Error as exc:
            raise sa.exc.DBAPIError(sql, None, exc) from exc

    def database_objects(
        self,
    ) -> list[tuple[str, Callable[[Connection, NeedleMatcher], Iterator[Hit]]]]:
        return [(LARGE_OBJECTS, self.scan_large_objects)]

    def scan_large_objects(self, conn: Connection, matcher: NeedleMatcher) -> Iterator[Hit]:
        """Every large object's bytes; one the role may not read is ``StoreUnreadable``."""
        oids = conn.exec_driver_sql("SELECT oid FROM pg_largeobject_metadata ORDER BY oid")
        for (oid,) in oids.all():
            carried = b""  # the end of the previous chunk, where a needle may start
            offset = 0
            while True:
                try:
                    chunk = conn.exec_driver_sql(
                        "SELECT lo_get(%s, %s, %s)", (oid, offset, LARGE_OBJECT_CHUNK)
                    ).scalar()
                except sa.exc.DBAPIError as exc:
                    raise StoreUnreadable(
                        self.store.name,
                        f"large object oid={oid} ({LARGE_OBJECTS}) was not scanned: "
                        f"{str(exc.orig).strip().splitlines()[0]}",
                    ) from exc
                data = carried + bytes(chunk or b"")
                for _, group in matcher.search(data):
                    for needle in group:
                        yield Hit(self.store.name, LARGE_OBJECTS, f"oid={oid}", needle)
                if not chunk or len(chunk) < LARGE_OBJECT_CHUNK:
                    break
                offset += len(chunk)
                carried = data[-(matcher.longest - 1) :] if matcher.longest > 1 else b""

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


def _text(field: bytes | None) -> str:
    return (field or b"").decode("utf-8", "surrogateescape")
