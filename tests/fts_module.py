"""A correct module of another shape: customers found through SQLite full-text search.

The customer search is an FTS5 index over the customers table (external
content: the index keeps only terms, the text stays in ``customers``), and
notes are indexed by an FTS5 table that keeps its own copy of the text. The
module keeps both in step itself, as application code does, and on deletion
compacts the indexes (``'optimize'``) so no term of the deleted person stays
behind in an old segment. Compacting moves everyone else's terms into fewer,
different pages of the engine's own tables: a bystander is still there, just
stored differently.

Variants break one thing each:

* ``IndexKeepsDeleted`` deletes the customer's row but never tells the index,
  so their terms stay in the FTS5 shadow tables.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from pytest_stexcel_privacy import Person, PrivacyAdapter, RegistrationRejected, SQLStore, Store

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    street TEXT NOT NULL,
    phone TEXT NOT NULL
);
CREATE VIRTUAL TABLE customer_search USING fts5(
    first_name, last_name, email, street,
    content='customers', content_rowid='id',
    tokenize="unicode61 tokenchars '.@+'"
);
CREATE TABLE notes (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, body TEXT NOT NULL);
CREATE VIRTUAL TABLE note_search USING fts5(body);
"""
INDEXED = ("first_name", "last_name", "email", "street")


class FtsShop(PrivacyAdapter):
    """The account is the customer id."""

    history_kinds = ("note",)

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "shop.db"
        with self._db() as db:
            db.executescript(SCHEMA)

    secure_delete = "ON"  # no copy of a deleted row left in the file's free pages

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path)
        db.execute(f"PRAGMA secure_delete = {self.secure_delete}")
        return db

    def register(self, person: Person) -> Any:
        if person.birth_date is None:
            raise RegistrationRejected("a birth date is required")
        with self._db() as db:
            values = [person.value(f) for f in INDEXED]
            cursor = db.execute(
                "INSERT INTO customers (first_name, last_name, email, street, phone) "
                "VALUES (?, ?, ?, ?, ?)",
                (*values, person.phone),
            )
            db.execute(
                "INSERT INTO customer_search (rowid, first_name, last_name, email, street) "
                "VALUES (?, ?, ?, ?, ?)",
                (cursor.lastrowid, *values),
            )
        self._note(cursor.lastrowid, f"{person.full_name}: account opened")
        return cursor.lastrowid

    def add_history(self, account: Any, kind: str, person: Person) -> None:
        self._note(account, f"{person.full_name}: asked about a resizing")

    def _note(self, account: Any, body: str) -> None:
        """A note, indexed in its own transaction: each one a new segment of the index."""
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO notes (customer_id, body) VALUES (?, ?)", (account, body)
            )
            db.execute(
                "INSERT INTO note_search (rowid, body) VALUES (?, ?)", (cursor.lastrowid, body)
            )

    def delete(self, account: Any) -> None:
        with self._db() as db:
            self._unindex(db, account)
            notes = db.execute("SELECT id FROM notes WHERE customer_id = ?", (account,)).fetchall()
            db.executemany("DELETE FROM note_search WHERE rowid = ?", notes)
            db.execute("DELETE FROM notes WHERE customer_id = ?", (account,))
            db.execute("DELETE FROM customers WHERE id = ?", (account,))
            # Compact both indexes: the deleted terms leave the old segments for good.
            db.execute("INSERT INTO customer_search (customer_search) VALUES ('optimize')")
            db.execute("INSERT INTO note_search (note_search) VALUES ('optimize')")

    def _unindex(self, db: sqlite3.Connection, account: Any) -> None:
        """Tell the external-content index the row goes: it cannot see the table change."""
        row = db.execute(
            f"SELECT {', '.join(INDEXED)} FROM customers WHERE id = ?", (account,)
        ).fetchone()
        db.execute(
            "INSERT INTO customer_search (customer_search, rowid, first_name, last_name, "
            "email, street) VALUES ('delete', ?, ?, ?, ?, ?)",
            (account, *row),
        )

    def stores(self) -> list[Store]:
        return [SQLStore(f"sqlite:///{self.path}", name="shop-db")]


class IndexKeepsDeleted(FtsShop):
    """Deletes the customer's row but leaves their terms in the full-text index."""

    def _unindex(self, db: sqlite3.Connection, account: Any) -> None:
        pass


class FreePagesKeepDeleted(FtsShop):
    """Deletes every row, but SQLite leaves the deleted rows' bytes in free pages."""

    secure_delete = "OFF"
