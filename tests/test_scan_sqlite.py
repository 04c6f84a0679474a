"""The SQLite residue scanner: every table, every column type, hostile names and needles."""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_stexcel_privacy import Person, SQLStore
from pytest_stexcel_privacy.errors import StoreUnreadable
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import Residue, ResidueScanner

Database = Callable[..., tuple[Path, sqlite3.Connection]]


@pytest.fixture
def database(tmp_path: Path) -> Database:
    def make(
        *statements: str, rows: dict[str, list[tuple[object, ...]]] | None = None
    ) -> tuple[Path, sqlite3.Connection]:
        path = tmp_path / "erp.db"
        connection = sqlite3.connect(path)
        for statement in statements:
            connection.execute(statement)
        for table, values in (rows or {}).items():
            marks = ", ".join("?" * len(values[0]))
            connection.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
        connection.commit()
        return path, connection

    return make


def scan(path: Path, *people: Person) -> Residue:
    with ResidueScanner([SQLStore(f"sqlite:///{path}", name="db")]) as scanner:
        return scanner.scan(people)


def places(residue: Residue) -> set[tuple[str, str, str]]:
    return {(hit.location, hit.locator, hit.field) for hit in residue}


@pytest.fixture
def ann() -> Person:
    return assemble(given="Ann", family="O'Hara")


def test_finds_values_in_every_kind_of_table(database: Database, ann: Person) -> None:
    path, db = database(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)",
        "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, payload JSON)",
        "CREATE TABLE history (customer TEXT)",  # no primary key: rowid locates it
        "CREATE TABLE codes (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID",
        "CREATE VIRTUAL TABLE notes_fts USING fts5(body)",
    )
    db.execute("INSERT INTO customers VALUES (7, ?)", (ann.email,))
    db.execute("INSERT INTO audit_log VALUES (1, ?)", (json.dumps({"name": ann.last_name}),))
    db.execute("INSERT INTO history VALUES (?)", (ann.street.upper(),))
    db.execute("INSERT INTO codes VALUES ('a', ?)", (gzip.compress(b"x") + ann.phone.encode(),))
    db.execute("INSERT INTO notes_fts VALUES (?)", (f"called {ann.first_name}",))
    db.commit()
    found = places(scan(path, ann))
    assert ("customers.email", "id=7", "email") in found
    assert ("audit_log.payload", "id=1", "last_name") in found
    assert ("history.customer", "rowid=1", "street") in found
    assert ("codes.v", "k=a", "phone") in found
    assert ("notes_fts.body", "rowid=1", "first_name") in found
    assert ("notes_fts_content.c0", "id=1", "first_name") in found  # FTS shadow table too


def test_numbers_stored_as_integers_are_found(database: Database, ann: Person) -> None:
    digits = int("".join(c for c in ann.phone if c.isdigit()))
    path, _ = database(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, phone INTEGER)", rows={"t": [(1, digits)]}
    )
    assert places(scan(path, ann)) == {("t.phone", "id=1", "phone")}


def test_quoted_mixed_case_and_reserved_identifiers(database: Database, ann: Person) -> None:
    path, db = database(
        'CREATE TABLE "Order" ("select" TEXT, "Group By" TEXT, "we""ird" TEXT, "%_\\" TEXT)'
    )
    db.execute(
        'INSERT INTO "Order" VALUES (?, ?, ?, ?)', (ann.email, ann.phone, ann.street, ann.employer)
    )
    db.commit()
    found = places(scan(path, ann))
    assert {loc for loc, _, _ in found} == {
        "Order.select",
        "Order.Group By",
        'Order.we"ird',
        "Order.%_\\",
    }


def test_hostile_needles_neither_break_nor_inject(database: Database) -> None:
    hostile = assemble(given="Robert'); DROP TABLE t;--", family="100%_off\\")
    path, db = database("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    db.execute("INSERT INTO t VALUES (1, 'no personal data here'), (2, ?)", (hostile.full_name,))
    db.commit()
    assert places(scan(path, hostile)) == {
        ("t.v", "id=2", "first_name"),
        ("t.v", "id=2", "last_name"),
    }
    assert db.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_invalid_utf8_and_nul_bytes(database: Database, ann: Person) -> None:
    path, db = database("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)")
    poisoned = b"\xff\xfe\x00" + ann.email.encode() + b"\x00\xc3"
    db.execute("INSERT INTO t VALUES (1, CAST(? AS TEXT), ?)", (poisoned, poisoned))
    db.commit()
    assert places(scan(path, ann)) == {("t.v", "id=1", "email"), ("t.b", "id=1", "email")}


def test_other_people_and_no_people(database: Database, ann: Person) -> None:
    other = assemble(given="Ann", family="O'Hara")
    path, _ = database("CREATE TABLE t (v TEXT)", rows={"t": [(other.email,), (other.full_name,)]})
    assert len(scan(path, ann)) == 0
    assert len(scan(path)) == 0


def test_a_million_row_table_is_scanned_in_full(database: Database, ann: Person) -> None:
    path, db = database("CREATE TABLE log (id INTEGER PRIMARY KEY, line TEXT, n INTEGER)")
    db.executemany(
        "INSERT INTO log (line, n) VALUES (?, ?)",
        ((f"order {i} shipped to customer {i % 977}", i) for i in range(1_000_000)),
    )
    db.execute("INSERT INTO log (line, n) VALUES (?, 0)", (f"mail to {ann.email}",))
    db.commit()
    assert places(scan(path, ann)) == {("log.line", "id=1000001", "email")}


def test_sqlite_statistics_tables_are_scanned(database: Database, ann: Person) -> None:
    path, db = database("CREATE TABLE t (email TEXT)", "CREATE INDEX t_email ON t (email)")
    db.executemany("INSERT INTO t VALUES (?)", [(ann.email,)] * 3)
    db.execute("ANALYZE")
    db.execute("DELETE FROM t")
    db.execute("DELETE FROM sqlite_stat1")
    db.execute("INSERT INTO sqlite_stat1 VALUES ('t', 't_email', ?)", (ann.email,))
    db.commit()
    assert ("sqlite_stat1.stat", "rowid=1", "email") in places(scan(path, ann))


def test_scan_is_read_only(database: Database, ann: Person) -> None:
    path, db = database("CREATE TABLE t (v TEXT)", rows={"t": [(ann.email,)]})
    db.close()
    before = path.read_bytes()
    scan(path, ann)
    assert path.read_bytes() == before


def test_missing_database_file_is_unreadable_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(StoreUnreadable, match=r"store 'db'.*missing\.db.*does not exist"):
        ResidueScanner([SQLStore(f"sqlite:///{path}", name="db")]).open()
    assert not path.exists()


def test_corrupt_database_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnreadable, match="store 'db'"):
        ResidueScanner([SQLStore(f"sqlite:///{path}", name="db")]).open()


def test_database_vanishing_between_scans_is_an_error(database: Database, ann: Person) -> None:
    path, db = database("CREATE TABLE t (v TEXT)", rows={"t": [(ann.email,)]})
    db.close()
    scanner = ResidueScanner([SQLStore(f"sqlite:///{path}", name="db")]).open()
    assert len(scanner.scan([ann])) == 1
    path.unlink()
    with pytest.raises(StoreUnreadable, match="store 'db'"):
        scanner.scan([ann])


def test_in_memory_url_explains_how_to_pass_the_engine() -> None:
    with pytest.raises(StoreUnreadable, match=r"SQLStore\(engine\)"):
        ResidueScanner([SQLStore("sqlite://", name="mem")]).open()


def test_engine_is_accepted(ann: Person) -> None:
    import sqlalchemy as sa
    from sqlalchemy.pool import StaticPool

    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v TEXT)")
        conn.exec_driver_sql("INSERT INTO t VALUES (?)", (ann.email,))
    with ResidueScanner([SQLStore(engine, name="mem")]) as scanner:
        assert places(scanner.scan([ann])) == {("t.v", "rowid=1", "email")}


def test_evidence_lists_rows_in_numeric_order(database: Database, ann: Person) -> None:
    path, _ = database(
        "CREATE TABLE log (id INTEGER PRIMARY KEY, line TEXT)",
        rows={"log": [(i, ann.email) for i in (11, 3, 100, 2)]},
    )
    assert [hit.locator for hit in scan(path, ann)] == ["id=2", "id=3", "id=11", "id=100"]


@pytest.fixture
def bob() -> Person:
    return assemble(given="Bob", family="Roe")


def deleted_with(path: Path, secure: bool, ann: Person, bob: Person) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA secure_delete = {'ON' if secure else 'OFF'}")
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, street TEXT)")
    db.executemany(
        "INSERT INTO customers VALUES (?, ?, ?)",
        [(1, ann.email, ann.street), (2, bob.email, bob.street)],
    )
    db.commit()
    db.execute("DELETE FROM customers WHERE id = 1")
    db.commit()
    return db


def test_a_deleted_row_left_in_a_free_page_is_residue(
    tmp_path: Path, ann: Person, bob: Person
) -> None:
    path = tmp_path / "erp.db"
    deleted_with(path, False, ann, bob).close()
    residue = scan(path, ann, bob)
    (hit, *_) = [h for h in residue.of(ann.canary) if h.field == "email"]
    assert (hit.location, hit.locator) == ("erp.db", "page 2")
    assert "free pages" in hit.structure
    assert hit.engine_internal
    assert "PRAGMA secure_delete = ON" in hit.evidence().text
    # Bob's live row is in the file's bytes too, but is reported once, as a live row
    assert {(h.location, h.structure) for h in residue.of(bob.canary)} == {
        ("customers.email", ""),
        ("customers.street", ""),
    }
    assert "db: erp.db (raw bytes)" in residue.scanned


def test_secure_delete_leaves_nothing_behind(tmp_path: Path, ann: Person, bob: Person) -> None:
    path = tmp_path / "erp.db"
    deleted_with(path, True, ann, bob).close()
    assert scan(path, ann, bob).of(ann.canary) == []


def test_a_row_moved_before_its_deletion_can_outlive_secure_delete_until_vacuum(
    tmp_path: Path,
) -> None:
    # Rows that grew moved their cells; secure_delete zeroes what a DELETE frees, not the
    # stale copies the moves left. The evidence says so, and VACUUM clears them.
    import random

    generator = random.Random(1)
    people = [assemble(given=f"Moved{i}", family="Row") for i in range(400)]
    path = tmp_path / "erp.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA secure_delete = ON")
    db.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, email TEXT, note TEXT)")
    for person in people:
        db.execute("INSERT INTO c (email, note) VALUES (?, ?)", (person.email, "x" * 100))
    db.commit()
    for _ in range(3):
        for i in generator.sample(range(400), 150):
            note = "y" * generator.randrange(10, 900)
            db.execute("UPDATE c SET note = ? WHERE id = ?", (note, i + 1))
        db.commit()
    gone = [people[i] for i in generator.sample(range(400), 200)]
    db.executemany("DELETE FROM c WHERE email = ?", [(p.email,) for p in gone])
    db.commit()
    hits = scan(path, *gone)
    assert hits.hits, "no stale copy this time: the test no longer shows the limit"
    assert all(h.location == "erp.db" and "VACUUM" in h.describe() for h in hits)
    db.execute("VACUUM")
    db.close()
    assert not scan(path, *gone).hits


def test_a_deleted_row_in_the_write_ahead_log_is_residue_until_a_checkpoint(
    tmp_path: Path, ann: Person, bob: Person
) -> None:
    path = tmp_path / "erp.db"
    sqlite3.connect(path).execute("PRAGMA journal_mode = WAL").close()
    db = deleted_with(path, True, ann, bob)  # the module's connection stays open
    try:
        hits = scan(path, ann, bob).of(ann.canary)
        assert {h.location for h in hits} == {"erp.db-wal"}
        assert all("write-ahead log" in h.structure for h in hits)
        assert all("wal_checkpoint(TRUNCATE)" in h.describe() for h in hits)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert scan(path, ann, bob).of(ann.canary) == []
    finally:
        db.close()


def test_a_table_wider_than_one_function_call_is_searched_in_every_column(
    database: Database, ann: Person
) -> None:
    # The row filter takes at most 100 cells a call; the 250th column is past two of them.
    columns = ", ".join(f"c{i} TEXT" for i in range(250))
    cells = [None] * 250
    cells[249] = ann.email
    cells[3] = ann.street.upper()
    path, db = database(f"CREATE TABLE wide (id INTEGER PRIMARY KEY, {columns})")
    db.execute(f"INSERT INTO wide VALUES (7, {', '.join('?' * 250)})", cells)
    db.commit()
    found = {(h.location, h.locator, h.field) for h in scan(path, ann) if h.location != "erp.db"}
    assert ("wide.c249", "id=7", "email") in found
    assert ("wide.c3", "id=7", "street") in found


def test_a_later_scan_sees_columns_and_tables_added_since(database: Database, ann: Person) -> None:
    # Table layouts are kept between scans of one scanner, until the schema changes.
    path, db = database("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
    db.execute("INSERT INTO customers VALUES (1, 'nobody@example.com')")
    db.commit()
    with ResidueScanner([SQLStore(f"sqlite:///{path}", name="db")]) as scanner:
        assert not [h for h in scanner.scan([ann]) if h.location != "erp.db"]
        db.execute("ALTER TABLE customers ADD COLUMN note TEXT")
        db.execute("UPDATE customers SET note = ?", (ann.street,))
        db.execute("CREATE TABLE later (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
        db.execute("INSERT INTO later VALUES ('a', ?)", (ann.email,))
        db.commit()
        found = {(h.location, h.locator, h.field) for h in scanner.scan([ann])}
    assert ("customers.note", "id=1", "street") in found
    assert ("later.v", "k=a", "email") in found


def test_every_row_searched_counts_once_per_scan(database: Database, ann: Person) -> None:
    # The report's coverage: each row's cells, counted per table rather than per row
    # (a count per row under the matcher's lock was a sixth of a scan), the same again
    # on a later scan that finds the rows' text remembered.
    from pytest_stexcel_privacy.scan.matcher import NeedleMatcher
    from pytest_stexcel_privacy.scan.sql import sql_scanner_for

    path, _ = database(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT, total INTEGER)",
        "CREATE TABLE tags (label TEXT)",
        rows={
            "orders": [(i, f"order {i}", i * 10) for i in range(1, 251)],
            "tags": [("gold",), ("silver",), (None,)],
        },
    )
    scanner = sql_scanner_for(SQLStore(f"sqlite:///{path}", name="db"))
    scanner.open()
    counts = []
    for _ in range(2):
        matcher = NeedleMatcher(ann.needles)
        assert not list(scanner.scan(matcher, []))
        counts.append(matcher.searched()[0])
    scanner.close()
    assert counts == [250 * 3 + 3 + 1] * 2  # and the database file, read as bytes
