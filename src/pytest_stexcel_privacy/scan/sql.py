"""Picks the scanner for a SQL store by its database's dialect.

The dialect is known before any connection (from the URL, or from the
module's own ``Engine``), so each kind of database gets a scanner of its
own and none of them dispatches to another. A dialect without a scanner is
refused (``StoreUnreadable``), never skipped.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..contract.stores import SQLStore
from ..errors import StoreUnreadable
from .mariadb import MariaDBScanner
from .postgresql import PostgresScanner
from .scanner import DEFAULT_SCAN_TIMEOUT
from .sql_scanner import SQLScanner
from .sqlite import SQLiteScanner

SQL_SCANNERS_BY_DIALECT: dict[str, type[SQLScanner]] = {
    "sqlite": SQLiteScanner,
    "postgresql": PostgresScanner,
    "mysql": MariaDBScanner,
    "mariadb": MariaDBScanner,
}


def sql_scanner_for(store: SQLStore, timeout: float = DEFAULT_SCAN_TIMEOUT) -> SQLScanner:
    """The scanner for the store's database, on the module's ``Engine`` or one of its own;
    ``timeout`` (seconds) bounds each of its queries and each wait for a lock."""
    if isinstance(store.url, Engine):
        scanner_class = _scanner_class(store, store.url.dialect.name)
        return scanner_class(store, store.url, owns_engine=False, timeout=timeout)
    try:
        url = sa.make_url(store.url)
    except sa.exc.ArgumentError as exc:
        raise StoreUnreadable(store.name, f"not a SQLAlchemy URL: {exc}") from exc
    scanner_class = _scanner_class(store, url.get_backend_name())
    engine = scanner_class.engine_for(store, url)
    return scanner_class(store, engine, owns_engine=True, timeout=timeout)


def _scanner_class(store: SQLStore, dialect: str) -> type[SQLScanner]:
    if dialect not in SQL_SCANNERS_BY_DIALECT:
        raise StoreUnreadable(
            store.name,
            f"scanning {dialect} databases is not supported; SQLite, PostgreSQL and "
            "MariaDB/MySQL are",
        )
    return SQL_SCANNERS_BY_DIALECT[dialect]
