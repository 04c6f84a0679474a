"""SQLite residue scan against reading every row once, in the same run.

    python benchmarks/sqlite_scan.py [--rows 200000] [--people 20] [--repeat 3] [--busy]

Writes an outbox-shaped table (an ERP's sent mail: address, subject, body,
kind, customer, time) of ``--rows`` rows to a scratch database, one row
carrying a planted person's address, then times, best of ``--repeat``:

* the floor: every row fetched once, each column ``CAST(... AS BLOB)``;
* the scanner, for ``--people`` persons' needles at once (its row filter, a
  Python function SQLite calls for every row, then the file's raw bytes).

``--busy`` runs a Python thread spinning beside every timing, as a module's
busy worker would: Python's sqlite3 lets go of the GIL for every row it steps
to and must win it back, which then takes up to the switch interval (5 ms)
each time; use a few thousand rows with it.

Prints both and the scanner's multiple of the floor. Exits non-zero if the
scanner misses the planted row.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pytest_stexcel_privacy import SQLStore
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import ResidueScanner
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher

COLUMNS = ("to_address", "subject", "body", "kind", "customer_id", "sent_at")
CELLS = ", ".join(f"CAST({c} AS BLOB)" for c in COLUMNS)


def best(repeat: int, run: Callable[[], object]) -> float:
    fastest = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="a Python thread spinning beside")
    args = parser.parse_args()
    done = threading.Event()
    if args.busy:
        threading.Thread(target=lambda: _spin(done), daemon=True).start()
    people = [assemble(given="Ann", family="Lee") for _ in range(args.people)]
    planted = args.rows // 2
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "erp.db"
        db = sqlite3.connect(path)
        db.execute(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY, to_address TEXT, subject TEXT, "
            "body TEXT, kind TEXT, customer_id INTEGER, sent_at TEXT)"
        )
        db.executemany(
            "INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    i,
                    people[0].email if i == planted else f"customer{i}@example.com",
                    "Holiday collection",
                    f"Dear customer {i},\n\nHoliday collection.\n\nYour jewelers\n",
                    "marketing",
                    i % 977,
                    "2026-12-01 10:00:00.000000",
                )
                for i in range(1, args.rows + 1)
            ),
        )
        db.commit()
        matcher = NeedleMatcher(n for p in people for n in p.needles)

        def floor() -> None:
            for _ in db.execute(f"SELECT id, {CELLS} FROM outbox"):
                pass

        store = SQLStore(f"sqlite:///{path}", name="erp")
        found: list[str] = []

        def scanner() -> None:
            # a new scanner each time: no earlier scan of the same file to reuse
            with ResidueScanner([store], reuse=False) as residue_scanner:
                residue = residue_scanner.scan(people)
            found[:] = sorted({h.locator for h in residue if h.location.startswith("outbox.")})

        took_floor = best(args.repeat, floor)
        took_scanner = best(args.repeat, scanner)
        done.set()
        db.close()
    busy = ", a busy thread beside" if args.busy else ""
    print(f"{args.rows:,} rows, {args.people} persons, {len(matcher.keys):,} needles{busy}")
    print(f"floor (read every row once): {took_floor:.2f} s")
    print(f"scanner: {took_scanner:.2f} s = {took_scanner / took_floor:.2f}x floor")
    if found != [f"id={planted}"]:
        print(f"missed the planted row: the scanner found {found}", file=sys.stderr)
        return 1
    return 0


def _spin(done: threading.Event) -> None:
    while not done.is_set():
        pass


if __name__ == "__main__":
    sys.exit(main())
