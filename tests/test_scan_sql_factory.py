"""The SQL scanner is picked by dialect, once, and an unknown dialect is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from pytest_stexcel_privacy import SQLStore
from pytest_stexcel_privacy.errors import StoreUnreadable
from pytest_stexcel_privacy.scan.mariadb import MariaDBScanner
from pytest_stexcel_privacy.scan.postgresql import PostgresScanner
from pytest_stexcel_privacy.scan.sql import sql_scanner_for
from pytest_stexcel_privacy.scan.sql_scanner import SQLScanner
from pytest_stexcel_privacy.scan.sqlite import SQLiteScanner


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    path = tmp_path / "erp.db"
    sqlite3.connect(path).close()
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://user@db.invalid/erp", PostgresScanner),
        ("mysql+pymysql://user@db.invalid/erp", MariaDBScanner),
        ("mariadb+pymysql://user@db.invalid/erp", MariaDBScanner),
    ],
)
def test_a_server_url_gets_its_servers_scanner_without_connecting(
    url: str, expected: type[SQLScanner]
) -> None:
    scanner = sql_scanner_for(SQLStore(url, name="db"))
    assert type(scanner) is expected
    assert scanner.owns_engine
    scanner.close()


def test_a_sqlite_url_gets_the_sqlite_scanner(sqlite_url: str) -> None:
    scanner = sql_scanner_for(SQLStore(sqlite_url, name="db"))
    assert type(scanner) is SQLiteScanner
    assert scanner.owns_engine
    scanner.close()


def test_the_modules_own_engine_is_used_and_never_disposed(sqlite_url: str) -> None:
    engine = sa.create_engine(sqlite_url)
    scanner = sql_scanner_for(SQLStore(engine, name="db"))
    assert type(scanner) is SQLiteScanner
    assert scanner.engine is engine
    assert not scanner.owns_engine


def test_a_dialect_without_a_scanner_is_unreadable_not_skipped() -> None:
    with pytest.raises(StoreUnreadable, match=r"store 'db'.*mssql databases is not supported"):
        sql_scanner_for(SQLStore("mssql+pyodbc://user@db.invalid/erp", name="db"))


def test_a_string_that_is_no_url_is_unreadable() -> None:
    with pytest.raises(StoreUnreadable, match=r"store 'db'.*not a SQLAlchemy URL"):
        sql_scanner_for(SQLStore("not a url", name="db"))
