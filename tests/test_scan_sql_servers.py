"""The SQL scanner on SQLite, PostgreSQL and MariaDB: the same promises on each."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from pytest_stexcel_privacy import Person, SQLStore
from pytest_stexcel_privacy.errors import StoreUnreadable
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import Residue, ResidueScanner, server_sql, sqlite
from pytest_stexcel_privacy.scan.pg_ranges import connections_wanted
from servers import ScratchDatabase, scratch_database

DIALECTS = ["sqlite", "postgresql", "mariadb"]
TYPES = {
    "sqlite": {"json": "TEXT", "blob": "BLOB", "pk": "INTEGER PRIMARY KEY", "q": '"'},
    "postgresql": {"json": "JSONB", "blob": "BYTEA", "pk": "INTEGER PRIMARY KEY", "q": '"'},
    "mariadb": {"json": "JSON", "blob": "LONGBLOB", "pk": "INTEGER PRIMARY KEY", "q": "`"},
}


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScratchDatabase]:
    with scratch_database(request.param, tmp_path) as scratch:
        yield scratch


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[ScratchDatabase]:
    with scratch_database("postgresql", tmp_path) as scratch:
        yield scratch


@pytest.fixture
def mariadb(tmp_path: Path) -> Iterator[ScratchDatabase]:
    with scratch_database("mariadb", tmp_path) as scratch:
        yield scratch


@pytest.fixture
def ann() -> Person:
    return assemble(given="Ann", family="Lee", plus_tag="vip")


def scan(db: ScratchDatabase, *people: Person) -> Residue:
    store = SQLStore(db.url, name="db", schemas=db.schemas)
    with ResidueScanner([store]) as scanner:
        return scanner.scan(people)


def assert_unreadable(
    url: str, db: ScratchDatabase, match: str, person: Person, timeout: float = 30.0
) -> None:
    """Scanning the scratch database at ``url`` fails closed, naming ``match``."""
    store = SQLStore(url, name="db", schemas=db.schemas)
    with (
        pytest.raises(StoreUnreadable, match=match),
        ResidueScanner([store], timeout=timeout) as scanner,
    ):
        scanner.scan([person])


def q(db: ScratchDatabase, name: str) -> str:
    mark = TYPES[db.dialect]["q"]
    return f"{mark}{name.replace(mark, mark * 2)}{mark}"


def test_text_json_binary_and_numbers(db: ScratchDatabase, ann: Person) -> None:
    t = TYPES[db.dialect]
    db.run(
        f"CREATE TABLE customers (id {t['pk']}, name VARCHAR(200), phone BIGINT, "
        f"profile {t['json']}, photo {t['blob']})",
    )
    digits = "".join(c for c in ann.phone if c.isdigit())
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO customers VALUES (7, :n, :p, :j, :b)"),
            {
                "n": ann.full_name.upper(),
                "p": int(digits),
                "j": json.dumps({"mail": ann.email}),
                "b": b"\x00\xff" + ann.street.encode() + b"\xfe",
            },
        )
    found = {(h.location.rsplit(".", 1)[-1], h.locator, h.field) for h in scan(db, ann)}
    assert found >= {
        ("name", "id=7", "first_name"),
        ("phone", "id=7", "phone"),
        ("profile", "id=7", "email"),
        ("photo", "id=7", "street"),
    }


def test_only_a_row_holding_a_needle_is_named_and_by_its_key(
    db: ScratchDatabase, ann: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows read back because a cell looks encoded but holding nobody give no hit, and
    their key is never named (naming costs a search of it); a row that does is named by
    its key, inside an encoding too."""
    named: list[str] = []
    for module in (server_sql, sqlite):
        real = module.describe_locator

        def counted(matcher: Any, names: Any, values: Any, real: Any = real) -> str:
            named.append(str(values[0]))
            return str(real(matcher, names, values))

        monkeypatch.setattr(module, "describe_locator", counted)
    t = TYPES[db.dialect]
    db.run(f"CREATE TABLE tokens (id {t['pk']}, token VARCHAR(200))")
    inside = base64.b64encode(json.dumps({"mail": ann.email}).encode()).decode()
    # 16 letters before the "@": they start like base64, which no decoder then opens
    rows = [{"i": n, "v": "abcdefghijklmnopqrst@example.com"} for n in range(1, 50)]
    rows += [{"i": 500, "v": inside}, {"i": 501, "v": ann.email}]
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO tokens VALUES (:i, :v)"), rows)
    found = {(h.locator, h.field) for h in scan(db, ann).hits}
    assert {locator for locator, _ in found} == {"id=500", "id=500, in base64", "id=501"}, found
    assert ("id=501", "email") in found
    assert sorted(set(named)) == ["500", "501"]


def test_identifiers_that_need_quoting(db: ScratchDatabase, ann: Person) -> None:
    table, column = 'Order "Group"%_', "E-Mail select"
    db.run(f"CREATE TABLE {q(db, table)} ({q(db, column)} VARCHAR(200))")
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO {q(db, table)} VALUES (:v)"), {"v": ann.email})
    (hit,) = [h for h in scan(db, ann) if h.field == "email"]
    assert hit.location.endswith(f"{table}.{column}")


def test_hostile_needles_neither_break_nor_inject(db: ScratchDatabase) -> None:
    hostile = assemble(given="Robert'); DROP TABLE t;--", family="100%_off\\(.*)[a-z]+$")
    db.run(f"CREATE TABLE t (id {TYPES[db.dialect]['pk']}, v VARCHAR(300))")
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO t VALUES (1, 'nothing personal'), (2, :v)"),
            {"v": hostile.full_name},
        )
    fields = {(h.locator, h.field) for h in scan(db, hostile)}
    assert fields == {("id=2", "first_name"), ("id=2", "last_name")}
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2


def test_no_primary_key_and_a_hundred_columns(db: ScratchDatabase, ann: Person) -> None:
    columns = ", ".join(f"c{i} VARCHAR(100)" for i in range(100))
    db.run(f"CREATE TABLE wide ({columns})")
    values = ", ".join(":v" if i == 73 else "NULL" for i in range(100))
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO wide VALUES ({values})"), {"v": ann.email})
    (hit,) = [h for h in scan(db, ann) if h.field == "email"]
    assert hit.location.endswith("wide.c73")
    assert hit.locator in ("rowid=1", "ctid=(0,1)", "no primary key: matching row 1")


def test_a_fifty_megabyte_row(db: ScratchDatabase, ann: Person) -> None:
    big = "LONGTEXT" if db.dialect == "mariadb" else "TEXT"
    previous = None
    if db.dialect == "mariadb":  # the server's default packet limit is 16 MB
        with db.engine.connect() as conn:
            previous = conn.exec_driver_sql("SELECT @@GLOBAL.max_allowed_packet").scalar()
        db.run("SET GLOBAL max_allowed_packet = 268435456")
        db.engine = sa.create_engine(
            db.url, poolclass=NullPool, connect_args={"max_allowed_packet": 1 << 28}
        )
    db.run(f"CREATE TABLE notes (id {TYPES[db.dialect]['pk']}, body {big})")
    body = "x" * (50 * 1024 * 1024) + ann.email
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO notes VALUES (1, :b)"), {"b": body})
    try:
        assert {(h.locator, h.field) for h in scan(db, ann)} >= {("id=1", "email")}
    finally:
        if previous is not None:  # leave the server's setting as it was
            db.run(f"SET GLOBAL max_allowed_packet = {int(previous)}")


def test_nothing_is_written(db: ScratchDatabase, ann: Person) -> None:
    db.run(f"CREATE TABLE t (id {TYPES[db.dialect]['pk']}, v VARCHAR(200))")
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (1, :v)"), {"v": ann.email})
    scan(db, ann)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT v FROM t").scalar() == ann.email


@pytest.mark.parametrize("dialect", ["postgresql"])
def test_materialized_views_arrays_and_invalid_utf8_in_bytea(
    dialect: str, tmp_path: Path, ann: Person
) -> None:
    with scratch_database(dialect, tmp_path) as db:
        db.run(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, tags TEXT[], raw BYTEA)",
            "CREATE MATERIALIZED VIEW mv AS SELECT id, tags FROM t",
        )
        with db.engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO t VALUES (1, :tags, :raw)"),
                {"tags": ["x", ann.email], "raw": b"\xff\x00" + ann.email.encode() + b"\xc3"},
            )
            conn.exec_driver_sql("REFRESH MATERIALIZED VIEW mv")
        found = {(h.location.split(".", 1)[1], h.field) for h in scan(db, ann)}
        assert found == {("t.tags", "email"), ("t.raw", "email"), ("mv.tags", "email")}


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_dates_flags_and_ids_are_skipped_and_everything_else_searched(
    dialect: str, tmp_path: Path, ann: Person
) -> None:
    extra = {
        "postgresql": ("u UUID, ip INET, span INTERVAL, doc XML, words TSVECTOR", "doc, words"),
        "mariadb": ("u UUID, y YEAR, s SET('a', 'b'), doc MEDIUMTEXT", "doc"),
    }[dialect]
    with scratch_database(dialect, tmp_path) as db:
        db.run(
            "CREATE TABLE dated (at TIMESTAMP, d DATE, t TIME, flag BOOLEAN)",
            f"CREATE TABLE mixed (id INTEGER PRIMARY KEY, at TIMESTAMP, flag BOOLEAN, "
            f"total NUMERIC(14, 2), {extra[0]})",
        )
        digits = "".join(c for c in ann.phone if c.isdigit())
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO dated VALUES ('2026-11-25 10:00', '2026-11-25', '10:00', TRUE)"
            )
            if dialect == "postgresql":
                conn.execute(
                    sa.text(
                        "INSERT INTO mixed (id, total, doc, words) VALUES "
                        "(1, :total, XMLPARSE(CONTENT :doc), to_tsvector('simple', :name))"
                    ),
                    {"total": digits, "doc": f"<c>{ann.email}</c>", "name": ann.full_name},
                )
            else:
                conn.execute(
                    sa.text("INSERT INTO mixed (id, total, doc) VALUES (1, :total, :doc)"),
                    {"total": digits, "doc": f"<c>{ann.email}</c>"},
                )
        residue = scan(db, ann)
        found = {(h.location.split(".", 1)[1], h.field) for h in residue}
        expected = {("mixed.total", "phone"), ("mixed.doc", "email")}
        if dialect == "postgresql":  # to_tsvector lower-cases and splits the name
            expected |= {("mixed.words", "first_name"), ("mixed.words", "last_name")}
        assert found == expected
        # a table of dates and flags holds nothing to find, but it was looked at
        assert any(entry.endswith(".dated") for entry in residue.scanned), residue.scanned


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_a_table_the_role_may_not_read_is_an_error_not_a_pass(
    dialect: str, tmp_path: Path, ann: Person
) -> None:
    with scratch_database(dialect, tmp_path) as db:
        schema = db.schemas[0] if db.schemas else ""
        role = f"reader_{schema[-8:]}"
        db.run("CREATE TABLE open_t (v VARCHAR(200))", "CREATE TABLE secret_t (v VARCHAR(200))")
        url = sa.make_url(db.url)
        if dialect == "postgresql":
            db.run(
                f'CREATE ROLE "{role}" LOGIN',
                f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
                f'GRANT SELECT ON "{schema}".open_t TO "{role}"',
            )
        else:
            db.run(
                f"CREATE USER '{role}'@'%' IDENTIFIED BY 'pw'",
                f"GRANT SELECT ON `{schema}`.open_t TO '{role}'@'%'",
                f"GRANT SELECT ON `{schema}`.secret_t TO '{role}'@'%'",
            )
            # MariaDB lists only readable tables: take one privilege away after listing works.
            db.run(f"REVOKE SELECT ON `{schema}`.secret_t FROM '{role}'@'%'")
            db.run(f"GRANT INSERT ON `{schema}`.secret_t TO '{role}'@'%'")
        limited = url.set(username=role, password="pw" if dialect == "mariadb" else None)
        try:
            assert_unreadable(limited.render_as_string(hide_password=False), db, "secret_t", ann)
        finally:
            if dialect == "postgresql":
                db.run(f'DROP OWNED BY "{role}"', f'DROP ROLE "{role}"')
            else:
                db.run(f"DROP USER '{role}'@'%'")


# How to find a scan's connections as it reads, and how many it has: the range readers'
# (a table larger than one range), named alike, or one COPY stream on its own connection.
SCAN_CONNECTIONS = {
    "page ranges": (
        "AND application_name LIKE 'stexcel-privacy scan %' "
        "AND application_name IN (SELECT application_name "
        "FROM pg_stat_activity WHERE query LIKE :scan)",
        "%string_agg%{schema}%",
    ),
    "one stream": ("AND query LIKE :scan", "COPY %{schema}%"),
}


@pytest.mark.parametrize("read_as", list(SCAN_CONNECTIONS))
def test_a_connection_dropped_mid_scan_is_an_error(
    read_as: str, tmp_path: Path, ann: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_stexcel_privacy.scan import postgresql

    if read_as == "page ranges":  # as a table larger than one range is read
        monkeypatch.setattr(postgresql, "STREAMED_UP_TO", -1)
    which, pattern = SCAN_CONNECTIONS[read_as]
    with scratch_database("postgresql", tmp_path) as db:
        db.run("CREATE TABLE a (v TEXT)", "CREATE TABLE b (v TEXT)")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO a VALUES (:v)"), {"v": ann.email})
        store = SQLStore(db.url, name="db", schemas=db.schemas)
        with ResidueScanner([store]) as scanner:
            from pytest_stexcel_privacy.scan.matcher import NeedleMatcher

            hits = scanner._scanners[0].scan(NeedleMatcher(ann.needles), [])
            next(hits)  # table a answered; now the server goes away
            try:
                with db.engine.begin() as conn:
                    killed = conn.execute(
                        sa.text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            f"WHERE pid <> pg_backend_pid() {which}"
                        ),
                        {"scan": pattern.format(schema=db.schemas[0])},
                    ).scalar()
                readers = connections_wanted() if read_as == "page ranges" else 0
                assert killed == 1 + readers
                with pytest.raises(StoreUnreadable, match="was not scanned"):
                    list(hits)
            finally:
                hits.close()


def test_backticks_and_spaces_in_table_and_column_names(
    mariadb: ScratchDatabase, ann: Person
) -> None:
    table, column = "order `x` list", "e`mail `` col"
    db = mariadb
    db.run(f"CREATE TABLE {q(db, table)} (id INTEGER PRIMARY KEY, {q(db, column)} TEXT)")
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO {q(db, table)} VALUES (3, :v)"), {"v": ann.email})
    (hit,) = [h for h in scan(db, ann) if h.field == "email"]
    assert hit.location.endswith(f"{table}.{column}")
    assert hit.locator == "id=3"


@pytest.mark.parametrize("row_end", ["", "en"])
def test_system_versioned_history_is_scanned_and_labelled(
    mariadb: ScratchDatabase, row_end: str, ann: Person
) -> None:
    bob = assemble(given="Bob", family="Roe")
    period = (
        f", s TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE, {row_end} TIMESTAMP(6) "
        f"GENERATED ALWAYS AS ROW END INVISIBLE, PERIOD FOR SYSTEM_TIME(s, {row_end})"
        if row_end
        else ""
    )
    db = mariadb
    db.run(
        f"CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, note TEXT{period}) "
        "WITH SYSTEM VERSIONING"
    )
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO people VALUES (1, :a, 'x'), (2, :b, 'x')"),
            {"a": ann.email, "b": bob.email},
        )
    db.run("UPDATE people SET note = 'y' WHERE id = 2", "DELETE FROM people WHERE id = 1")
    residue = scan(db, ann, bob)
    found = {(h.person, h.locator, h.structure) for h in residue if h.field == "email"}
    assert found == {
        (ann.canary, "id=1", "system-versioned history"),  # deleted: history only
        (bob.canary, "id=2", ""),  # live, and its older version is not a second hit
    }


@contextmanager
def postgres_role(db: ScratchDatabase, *grants: str) -> Iterator[str]:
    """A URL for a fresh non-superuser role, granted use of the schema and ``grants``."""
    schema = db.schemas[0] if db.schemas else ""
    role = f"reader_{schema[-8:]}"
    db.run(f'CREATE ROLE "{role}" LOGIN', f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
    db.run(*(grant.format(role=f'"{role}"') for grant in grants))
    try:
        yield sa.make_url(db.url).set(username=role).render_as_string(hide_password=False)
    finally:
        db.run(f'DROP OWNED BY "{role}"', f'DROP ROLE "{role}"')


@pytest.mark.parametrize("asked", ["with the schema", "table by table"])
def test_rows_hidden_by_row_level_security_are_an_error(
    postgres: ScratchDatabase, ann: Person, asked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether security hides rows is read for every table of the schema at once; a table
    that reading lacks (made after it) is asked on its own."""
    if asked == "table by table":
        from pytest_stexcel_privacy.scan.postgresql import PostgresScanner

        reflect_all = PostgresScanner.reflect_all

        def forgetting(self: PostgresScanner, conn: sa.Connection, schemas: set[str]) -> object:
            shapes = reflect_all(self, conn, schemas)
            assert self._row_security  # read with the schema
            self._row_security.clear()
            return shapes

        monkeypatch.setattr(PostgresScanner, "reflect_all", forgetting)
    db = postgres
    db.run(
        "CREATE TABLE guarded (id INTEGER PRIMARY KEY, v TEXT)",
        "ALTER TABLE guarded ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE guarded FORCE ROW LEVEL SECURITY",
        "CREATE POLICY only_x ON guarded USING (v = 'x')",
    )
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO guarded VALUES (1, 'x'), (2, :v)"), {"v": ann.email})
    # the superuser bypasses the policy, and sees the row
    assert {(h.locator, h.field) for h in scan(db, ann)} >= {("id=2", "email")}
    with postgres_role(db, "GRANT SELECT ON guarded TO {role}") as url:
        assert_unreadable(url, db, r"guarded.*row-level security", ann)


def test_large_objects_are_scanned_or_an_error(postgres: ScratchDatabase, ann: Person) -> None:
    db = postgres
    with db.engine.begin() as conn:
        oid = conn.execute(
            sa.text("SELECT lo_from_bytea(0, :b)"),
            {"b": b"\x00" * (9 << 20) + ann.email.encode() + b"\xff"},  # past a chunk
        ).scalar()
    try:
        residue = scan(db, ann)
        assert {(h.location, h.locator, h.field) for h in residue} == {
            ("pg_largeobject", f"oid={oid}", "email")
        }
        assert "db: pg_largeobject" in residue.scanned
        with postgres_role(db) as url:
            assert_unreadable(url, db, f"large object oid={oid}", ann)
    finally:
        db.run(f"SELECT lo_unlink({oid})")


@pytest.mark.parametrize(
    ("dialect", "lock"),
    [
        ("postgresql", "LOCK TABLE busy IN ACCESS EXCLUSIVE MODE"),
        ("mariadb", "LOCK TABLES busy WRITE"),
    ],
)
def test_a_locked_table_is_an_error_after_the_timeout(
    dialect: str, lock: str, tmp_path: Path, ann: Person
) -> None:
    with scratch_database(dialect, tmp_path) as db:
        db.run("CREATE TABLE busy (v TEXT)")
        with db.engine.connect() as holder:
            holder.exec_driver_sql(lock)
            started = time.monotonic()
            try:
                assert_unreadable(
                    db.url, db, r"busy.*(timeout|max_statement_time)", ann, timeout=1.0
                )
            finally:
                holder.rollback()
                if dialect == "mariadb":
                    holder.exec_driver_sql("UNLOCK TABLES")
            assert time.monotonic() - started < 20


@pytest.mark.parametrize("listing", ["as listed", "partitions first"])
def test_a_partitioned_table_is_reported_once(
    postgres: ScratchDatabase, ann: Person, listing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if listing == "partitions first":  # the catalogue's order is not fixed
        from pytest_stexcel_privacy.scan.server_sql import ServerSQLScanner

        listed = ServerSQLScanner.tables
        monkeypatch.setattr(
            ServerSQLScanner, "tables", lambda self, conn: sorted(listed(self, conn), reverse=True)
        )
    db = postgres
    db.run(
        "CREATE TABLE orders (id INTEGER, v TEXT) PARTITION BY RANGE (id)",
        "CREATE TABLE orders_low PARTITION OF orders FOR VALUES FROM (0) TO (100)",
        "CREATE TABLE orders_high PARTITION OF orders FOR VALUES FROM (100) TO (200)",
    )
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orders VALUES (5, :v), (150, 'x')"), {"v": ann.email})
    residue = scan(db, ann)
    assert [h.location.split(".", 1)[1] for h in residue if h.field == "email"] == ["orders_low.v"]
    assert sum(entry.endswith("orders_low (partition)") for entry in residue.scanned) == 1


def test_a_schema_reflected_at_once_scans_as_table_by_table(
    postgres: ScratchDatabase, ann: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's columns and keys are read in one catalogue query per schema, not one
    per table: the same hits, locators and tables as reflecting each table, a table the
    batch lacks (made after it was read) reflected on its own."""
    from pytest_stexcel_privacy.scan.postgresql import PostgresScanner

    db = postgres
    db.run(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT)",
        "CREATE TABLE lines (order_id INTEGER, line INTEGER, note TEXT, "
        "PRIMARY KEY (order_id, line))",
        "CREATE TABLE log (at TIMESTAMP, entry TEXT)",  # no primary key
        "CREATE TABLE blobs (id INTEGER PRIMARY KEY, raw BYTEA)",
        "CREATE TABLE parts (id INTEGER, v TEXT) PARTITION BY RANGE (id)",
        "CREATE TABLE parts_low PARTITION OF parts FOR VALUES FROM (0) TO (100)",
        "CREATE MATERIALIZED VIEW names AS SELECT id, name FROM customers",
    )
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO customers VALUES (7, :name, :email)"),
            {"name": ann.full_name, "email": ann.email},
        )
        conn.execute(sa.text("INSERT INTO lines VALUES (3, 2, :v)"), {"v": ann.email})
        conn.execute(sa.text("INSERT INTO log VALUES (now(), :v)"), {"v": ann.phone})
        conn.execute(sa.text("INSERT INTO blobs VALUES (1, :v)"), {"v": ann.email.encode()})
        conn.execute(sa.text("INSERT INTO parts VALUES (5, :v)"), {"v": ann.email})
        conn.exec_driver_sql("REFRESH MATERIALIZED VIEW names")

    def shown(residue: Residue) -> tuple[list[tuple[str, str, str]], list[str]]:
        return sorted((h.location, h.locator, h.field) for h in residue), residue.scanned

    batched: list[int] = []
    dropped: list[tuple[str, str]] = []
    reflect_all = PostgresScanner.reflect_all

    def counting(self: PostgresScanner, conn: sa.Connection, schemas: set[str]) -> object:
        shapes = reflect_all(self, conn, schemas)
        batched.append(len(shapes))
        for place in [place for place in shapes if place[1] == "log"]:
            del shapes[place]  # as if made after the batch was read
            dropped.append(place)
        return shapes

    monkeypatch.setattr(PostgresScanner, "reflect_all", counting)
    at_once = shown(scan(db, ann))
    assert batched[0] >= 6
    assert len(dropped) == 1
    monkeypatch.setattr(PostgresScanner, "batch_reflection", False)
    batched.clear()
    one_by_one = shown(scan(db, ann))
    assert batched == [0]
    assert at_once == one_by_one
    locations = {location.split(".", 1)[1] for location, _, _ in at_once[0]}
    assert locations >= {"customers.email", "lines.note", "log.entry", "blobs.raw"}
    assert {"parts_low.v", "names.name"} <= locations
    assert any(locator == "order_id=3, line=2" for _, locator, _ in at_once[0]), at_once


def test_a_table_without_pages_is_listed_but_not_queried(
    postgres: ScratchDatabase, ann: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sizes come with the schema, in one query: a table with no page holds no row the
    snapshot sees, and is not read; one emptied by DELETE keeps its pages and is read;
    one the role may not read is still an error, empty or not."""
    from pytest_stexcel_privacy.scan.postgresql import PostgresScanner

    read: list[str] = []
    candidate_rows = PostgresScanner.candidate_rows

    def recording(self: PostgresScanner, conn: sa.Connection, table: Any, *rest: Any) -> Any:
        names, rows = candidate_rows(self, conn, table, *rest)
        if not isinstance(rows, list) or rows:  # a query was made (a list: none was)
            read.append(table.place[1])
        return names, rows

    monkeypatch.setattr(PostgresScanner, "candidate_rows", recording)
    db = postgres
    db.run("CREATE TABLE customers (id INTEGER PRIMARY KEY, v TEXT)")
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO customers VALUES (7, :v)"), {"v": ann.email})
    db.run("CREATE TABLE never_used (id INTEGER PRIMARY KEY, v TEXT)")
    db.run("CREATE TABLE emptied (v TEXT)", "INSERT INTO emptied VALUES ('x')")
    db.run("DELETE FROM emptied")
    residue = scan(db, ann)
    assert {(h.location.rsplit(".", 2)[-2], h.locator) for h in residue} == {("customers", "id=7")}
    assert sorted(read) == ["customers", "emptied"]
    schema = db.schemas[0]
    assert {f"db: {schema}.{t}" for t in ("never_used", "emptied", "customers")} <= set(
        residue.scanned
    )
    with postgres_role(db, "GRANT SELECT ON customers, emptied TO {role}") as url:
        assert_unreadable(url, db, "never_used", ann)
