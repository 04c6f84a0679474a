"""Which locations are a database engine's own bookkeeping: the one place that knows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from pytest_stexcel_privacy import FileStore, SQLStore
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import ResidueScanner
from pytest_stexcel_privacy.scan.engine_internals import (
    file_structure,
    server_sql_structure,
    sqlite_shadow_tables,
    sqlite_structures,
)


def test_shadow_tables_of_known_modules_are_named_by_their_index() -> None:
    assert sqlite_shadow_tables({"notes": "fts5", "pins": "RTREE", "x": "csv"}) == {
        "notes_data": "the FTS5 index of 'notes'",
        "notes_idx": "the FTS5 index of 'notes'",
        "notes_content": "the FTS5 index of 'notes'",
        "notes_docsize": "the FTS5 index of 'notes'",
        "notes_config": "the FTS5 index of 'notes'",
        "pins_node": "the R*Tree index of 'pins'",
        "pins_rowid": "the R*Tree index of 'pins'",
        "pins_parent": "the R*Tree index of 'pins'",
    }


def test_a_sqlite_database_names_its_internal_tables_and_nothing_of_the_module(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE customer_data (id INTEGER PRIMARY KEY, email TEXT);
            CREATE INDEX by_email ON customer_data (email);
            CREATE TABLE "odd ""name"" _idx" (x TEXT);
            CREATE VIRTUAL TABLE "Customer Search" USING fts5(email);
            CREATE VIRTUAL TABLE old_notes USING fts4(body);
            CREATE VIRTUAL TABLE older_notes USING fts3(body);
            INSERT INTO customer_data (email) VALUES ('a@example.com'), ('b@example.com');
            ANALYZE;
            """
        )
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        structures = sqlite_structures(conn)
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    module_tables = {"customer_data", 'odd "name" _idx', "Customer Search", "old_notes"}
    assert module_tables | {"older_notes"} <= tables
    assert not module_tables & set(structures)
    assert structures["Customer Search_data"] == "the FTS5 index of 'Customer Search'"
    assert structures["old_notes_segdir"] == "the FTS4 index of 'old_notes'"
    assert structures["older_notes_segments"] == "the FTS3 index of 'older_notes'"
    assert structures["sqlite_stat1"] == "SQLite's optimizer statistics"
    assert tables - module_tables - {"older_notes"} <= set(structures)


def test_the_sqlite_scanner_marks_hits_in_a_full_text_index(tmp_path: Path) -> None:
    ann = assemble(given="Ann", family="Keep")
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("CREATE VIRTUAL TABLE customer_search USING fts5(name)")
        db.execute("INSERT INTO customers (name) VALUES (?)", (ann.full_name,))
        db.execute("INSERT INTO customer_search (name) VALUES (?)", (ann.full_name,))
    with ResidueScanner([SQLStore(f"sqlite:///{path}", name="db")]) as scanner:
        residue = scanner.scan([ann])
    marked = {hit.location: hit.structure for hit in residue}
    assert marked["customers.name"] == ""
    assert marked["customer_search.name"] == ""  # the table the module declared and reads
    assert marked["customer_search_content.c0"] == "the FTS5 index of 'customer_search'"
    internal = next(hit for hit in residue if hit.engine_internal)
    assert "(the FTS5 index of 'customer_search') [" in internal.evidence().text


@pytest.mark.parametrize(
    ("dialect", "schema", "table", "structure"),
    [
        ("postgresql", "pg_toast", "pg_toast_16384", "PostgreSQL's out-of-line (TOAST) storage"),
        ("postgresql", "pg_toast_temp_3", "pg_toast_1", "PostgreSQL's out-of-line (TOAST) storage"),
        ("postgresql", "public", "pg_toast", ""),
        ("postgresql", "mysql", "innodb_index_stats", ""),
        ("mysql", "mysql", "innodb_index_stats", "InnoDB's index statistics"),
        ("mariadb", "information_schema", "INNODB_FT_INDEX_TABLE", "an InnoDB full-text index"),
        ("mariadb", "shop", "innodb_index_stats", ""),
    ],
)
def test_server_tables_of_the_engine(dialect: str, schema: str, table: str, structure: str) -> None:
    assert server_sql_structure(dialect, schema, table) == structure


def test_a_sqlite_journal_is_internal_only_beside_its_database(tmp_path: Path) -> None:
    for name in ("shop.db", "shop.db-wal", "shop.db-journal", "shop.db-shm", "order-journal"):
        (tmp_path / name).write_bytes(b"")
    assert file_structure(tmp_path / "shop.db-wal") == "SQLite's write-ahead log of 'shop.db'"
    assert file_structure(tmp_path / "shop.db-journal") == (
        "SQLite's rollback journal of 'shop.db'"
    )
    assert file_structure(tmp_path / "shop.db-shm") == "SQLite's shared-memory index of 'shop.db'"
    assert file_structure(tmp_path / "order-journal") == ""  # no database called "order"
    assert file_structure(tmp_path / "shop.db") == ""


def test_the_file_scanner_marks_hits_in_a_journal(tmp_path: Path) -> None:
    ann = assemble(given="Ann", family="Keep")
    (tmp_path / "shop.db").write_bytes(ann.email.encode())
    (tmp_path / "shop.db-wal").write_bytes(ann.email.encode())
    with ResidueScanner([FileStore(tmp_path, name="files")]) as scanner:
        marked = {hit.location: hit.structure for hit in scanner.scan([ann])}
    assert marked == {"shop.db": "", "shop.db-wal": "SQLite's write-ahead log of 'shop.db'"}
