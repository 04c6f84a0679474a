"""Throw-away databases on the real servers this machine (or CI) runs.

Each test gets its own PostgreSQL schema or MariaDB database, dropped
afterwards; the servers' own data is never touched. A server that is not
running skips the test locally and fails it under CI=true (availability).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from availability import require

POSTGRES_URL = os.environ.get(
    "PRIVACY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get("PRIVACY_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
# Each xdist worker has its own share of Redis databases 15 down to 1 (gw0: 15, 13, ...
# of two workers), so parallel tests never share one; db 0, where clients write by
# default, is left alone. PRIVACY_TEST_REDIS names the one database to use instead.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
_WORKERS = min(max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), 1), 15)
REDIS_URLS = (
    [os.environ["PRIVACY_TEST_REDIS"]]
    if os.environ.get("PRIVACY_TEST_REDIS")
    else [f"redis://127.0.0.1:6379/{db}" for db in range(15 - _WORKER % 15, 0, -_WORKERS)]
)
REDIS_URL = REDIS_URLS[0]


@dataclass
class ScratchDatabase:
    """Where a test may create tables: ``engine`` writes, ``url`` + ``schemas`` scan."""

    dialect: str
    engine: sa.Engine
    url: str
    schemas: list[str] | None

    def run(self, *statements: str, params: list[dict[str, object]] | None = None) -> None:
        with self.engine.begin() as conn:
            for statement in statements:
                if self.dialect != "sqlite" and not params:
                    statement = statement.replace("%", "%%")  # the drivers' paramstyle
                conn.exec_driver_sql(statement, *(params or []))


def _reachable(url: str) -> str | None:
    try:
        engine = sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
        return None
    except Exception as exc:
        return str(exc).splitlines()[0]


@contextmanager
def scratch_database(dialect: str, tmp_path: object) -> Iterator[ScratchDatabase]:
    name = f"privacy_{uuid.uuid4().hex[:10]}"
    if dialect == "sqlite":
        path = f"{tmp_path}/scratch.db"
        engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
        yield ScratchDatabase("sqlite", engine, f"sqlite:///{path}", None)
        engine.dispose()
        return
    base = POSTGRES_URL if dialect == "postgresql" else MARIADB_URL
    problem = _reachable(base)
    require(problem is None, f"{dialect} at {sa.make_url(base).host}", f"start it ({problem})")
    admin = sa.create_engine(base, poolclass=NullPool)
    if dialect == "postgresql":
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        engine = sa.create_engine(
            base, poolclass=NullPool, connect_args={"options": f"-c search_path={name}"}
        )
        try:
            yield ScratchDatabase(dialect, engine, base, [name])
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
            admin.dispose()
    else:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        url = base.rsplit("/", 1)[0] + f"/{name}"
        engine = sa.create_engine(url, poolclass=NullPool)
        try:
            yield ScratchDatabase(dialect, engine, url, [name])
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP DATABASE `{name}`")
            admin.dispose()
