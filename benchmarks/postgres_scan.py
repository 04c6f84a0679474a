"""PostgreSQL scan cost against the read-once floor, measured in the same run.

    python benchmarks/postgres_scan.py [--rows 100000] [--people 4 20]

Builds an audit-log table in a scratch schema (dropped afterwards), times
``SELECT sum(length(t::text))`` over it (the floor: reading every row once
server-side), then the residue scanner for each number of persons, and prints
scan / floor. Not part of the test suite: the full 1 GB benchmark of issue 3
is still to be written; this is the probe behind the README's known limit.
"""

from __future__ import annotations

import argparse
import os
import time

import sqlalchemy as sa

from pytest_stexcel_privacy import SQLStore
from pytest_stexcel_privacy.persons import assemble
from pytest_stexcel_privacy.scan import ResidueScanner

URL = os.environ.get("PRIVACY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCHEMA = "stexcel_bench_probe"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--people", type=int, nargs="+", default=[4, 20])
    args = parser.parse_args()
    engine = sa.create_engine(URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
        conn.exec_driver_sql(
            f"CREATE TABLE {SCHEMA}.audit (id bigint PRIMARY KEY, at timestamptz, payload jsonb, "
            "note text)"
        )
        conn.exec_driver_sql(
            f"INSERT INTO {SCHEMA}.audit SELECT i, now() - i * interval '1 minute', "
            "jsonb_build_object('customer', i, 'name', 'Customer ' || md5(i::text), "
            "'total', i * 3.17, 'sku', 'RNG-18K-' || mod(i, 97)), "
            "'order ' || i || ' shipped to ' || md5((i * 7)::text) || ' international delivery' "
            f"FROM generate_series(1, {args.rows}) i"
        )
    try:
        with engine.connect() as conn:
            start = time.perf_counter()
            conn.exec_driver_sql(f"SELECT sum(length(t::text)) FROM {SCHEMA}.audit t").scalar()
            floor = time.perf_counter() - start
        print(f"rows {args.rows}: read-once floor {floor:.3f} s")
        store = SQLStore(URL, name="bench", schemas=(SCHEMA,))
        for count in args.people:
            people = [assemble(given=f"Gi{i}", family=f"Fa{i}") for i in range(count)]
            needles = sum(len(p.needles) for p in people)
            with ResidueScanner([store]) as scanner:
                start = time.perf_counter()
                scanner.scan(people)
                took = time.perf_counter() - start
            print(f"{count} persons ({needles} needles): {took:.2f} s = {took / floor:.0f}x floor")
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {SCHEMA} CASCADE")
        engine.dispose()


if __name__ == "__main__":
    main()
