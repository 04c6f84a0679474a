"""PostgreSQL residue scan of a schema of many small tables: reflection per schema against
reflection per table, empty tables skipped against queried, and small tables streamed on
the scan's connection against read by the range readers, measured in the same run.

    python benchmarks/postgres_many_tables.py [--tables 150] [--empty 100] [--repeat 3]

A store of a Django or Oscar shop has a hundred or more tables, most nearly
empty, and is scanned after every step: there the catalogue queries, not the
rows, are the cost. Generates ``--tables`` tables of a few rows each (one
holding a planted person) in a scratch schema, then times one scan with the
columns and keys of the whole schema read at once (``reflect_all``) and one
reading each table's, best of ``--repeat``, and prints both and their ratio.
``--empty`` tables more that never held a row (as most of a shop's do) are
then scanned as they are (not queried: they have no page) and queried as
before, and the two printed likewise; and the tables of rows, each smaller than
one range, streamed on the scan's own connection as they are and read by the
range readers as before (their connections opened for every scan). Exits
non-zero if any two scans do not find the same hits.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import sqlalchemy as sa

from pytest_stexcel_privacy import SQLStore
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import ResidueScanner, postgresql
from pytest_stexcel_privacy.scan.postgresql import PostgresScanner

URL = os.environ.get("PRIVACY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCHEMA = "stexcel_bench_many"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=150)
    parser.add_argument("--empty", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    person = assemble(given="Ann", family="Lee")
    engine = sa.create_engine(URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
        for number in range(args.tables):
            conn.exec_driver_sql(
                f"CREATE TABLE {SCHEMA}.t{number} (id integer PRIMARY KEY, name text, "
                "note text, amount numeric, at timestamptz, extra jsonb)"
            )
            conn.exec_driver_sql(
                f"INSERT INTO {SCHEMA}.t{number} SELECT i, 'name ' || i, 'note', i, now(), "
                "'{}' FROM generate_series(1, 5) i"
            )
        for number in range(args.empty):
            conn.exec_driver_sql(
                f"CREATE TABLE {SCHEMA}.e{number} (id integer PRIMARY KEY, name text)"
            )
        conn.execute(
            sa.text(f"INSERT INTO {SCHEMA}.t7 VALUES (99, :v, '', 0, now(), '{{}}')"),
            {"v": person.email},
        )
    store = SQLStore(URL, name="erp", schemas=[SCHEMA])

    def timed(batched: bool) -> tuple[float, list[tuple[str, str]]]:
        PostgresScanner.batch_reflection = batched
        best, hits = float("inf"), []
        for _ in range(args.repeat):
            with ResidueScanner([store], timeout=600) as scanner:
                start = time.perf_counter()
                residue = scanner.scan([person])
                best = min(best, time.perf_counter() - start)
            hits = sorted((hit.location, hit.locator) for hit in residue)
        return best, hits

    skips, streamed_up_to = postgresql._Size.holds_no_row, postgresql.STREAMED_UP_TO
    try:
        per_table, found_one_by_one = timed(False)
        per_schema, found_at_once = timed(True)
        postgresql.STREAMED_UP_TO = -1
        in_ranges, found_in_ranges = timed(True)
        postgresql.STREAMED_UP_TO = streamed_up_to
        postgresql._Size.holds_no_row = lambda self: False  # type: ignore[method-assign]
        queried, found_querying = timed(True)
    finally:
        postgresql._Size.holds_no_row = skips  # type: ignore[method-assign]
        postgresql.STREAMED_UP_TO = streamed_up_to
        PostgresScanner.batch_reflection = True
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    print(
        f"{args.tables} tables: reflected per table {per_table:.2f} s, "
        f"per schema {per_schema:.2f} s, {per_table / per_schema:.2f}x faster"
    )
    print(
        f"{args.empty} empty tables among them: queried {queried:.2f} s, "
        f"skipped {per_schema:.2f} s, {queried / per_schema:.2f}x faster"
    )
    print(
        f"small tables read by the range readers {in_ranges:.2f} s, streamed on the scan's "
        f"connection {per_schema:.2f} s, {in_ranges / per_schema:.2f}x faster"
    )
    found = (found_one_by_one, found_querying, found_in_ranges)
    if not found_at_once or any(other != found_at_once for other in found):
        print(f"different hits: {found_at_once} vs {found_one_by_one}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
