"""A deliberately tiny module and adapter for testing the plugin's own behaviour.

The realistic reference module is examples/jewelry_erp; this one exists so
contract and error-path tests can break one thing at a time in a few lines.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pytest_stexcel_privacy import Person, PrivacyAdapter, SQLStore, Store

# What a deliberately hung adapter call waits on (``toy_adapter.hang()``), so that the test
# can end it: a call abandoned after --privacy-call-timeout counts as running, and while
# one does, every mail settle in the process waits its full quiet window (quiescence.py),
# which slowed whatever tests the worker ran next for as long as a fixed sleep lasted.
_release = threading.Event()


def hang() -> None:
    """Block the calling adapter call until the test that hung it is over (at most 60 s)."""
    _release.wait(60)


@contextmanager
def hung_calls_released() -> Iterator[None]:
    """Around a test whose adapter calls ``hang()``: lets them go when it ends."""
    global _release
    _release = threading.Event()
    try:
        yield
    finally:
        _release.set()


class ToyAdapter(PrivacyAdapter):
    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "toy.db"
        with sqlite3.connect(self.path) as db:
            db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")

    def register(self, person: Person) -> Any:
        with sqlite3.connect(self.path) as db:
            cursor = db.execute(
                "INSERT INTO people (name, email) VALUES (?, ?)", (person.full_name, person.email)
            )
            return cursor.lastrowid

    def delete(self, account: Any) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute("PRAGMA secure_delete = ON")  # no copy left in the file's free pages
            db.execute("DELETE FROM people WHERE id = ?", (account,))

    def stores(self) -> list[Store]:
        return [SQLStore(f"sqlite:///{self.path}", name="toy-db")]


# The adapter capabilities the toy implements; the suite's other checks find it lacking.
TOY_CAPABILITIES = {name for name in vars(ToyAdapter) if not name.startswith("_")}
