"""A deliberately tiny module and adapter for testing the plugin's own behaviour.

The realistic reference module is examples/jewelry_erp; this one exists so
contract and error-path tests can break one thing at a time in a few lines.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from pytest_stexcel_privacy import Person, PrivacyAdapter, SQLStore, Store


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
