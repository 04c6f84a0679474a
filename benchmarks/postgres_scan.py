"""PostgreSQL residue scan against the read-once floor, measured in the same run.

    python benchmarks/postgres_scan.py [--megabytes 1024] [--people 100] [--keep]

Generates an ERP-shaped database in a scratch schema (customers, orders,
order lines, a jsonb audit log, free-text notes; about ``--megabytes`` of
table data), plants a few persons' values in it, then times:

* the floor: every table read once server-side, ``sum(length(t::text))``;
* the residue scanner, for ``--people`` persons' needles at once;
* the naive way: every row fetched into Python and searched there;
* two adversarial cases, each scanner against its own floor: a table of
  2,000,000 hex strings (every row of which looks like an encoded value), and
  one of 2,000,000 look-alikes (names and e-mail addresses at the needles' own
  domain, shaped like theirs, belonging to nobody), where a search whose cost
  grows with near-misses slows down (Hyperscan's did, 4.8x: benchmarks/README.md).

and prints each as a multiple of the floor. Exits non-zero if the scanner
misses a planted person or reports one that was not planted. ``--keep``
leaves the schema in place so that a second run skips the generation.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pytest_stexcel_privacy import SQLStore
from pytest_stexcel_privacy.people.persons import Person, assemble, mint
from pytest_stexcel_privacy.scan import ResidueScanner
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher
from pytest_stexcel_privacy.scan.postgresql import PostgresScanner
from pytest_stexcel_privacy.scan.server_sql import ServerSQLScanner

URL = os.environ.get("PRIVACY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCHEMA = "stexcel_bench"
# The adversarial table: hex strings, every row of which looks encoded (passing a regex
# sieve of letters-and-digits runs), in a schema of its own so it is timed on its own.
HEX_SCHEMA = "stexcel_bench_hex"
HEX_ROWS = 2_000_000
# The look-alikes: every row a near-miss of the needles (letters only, so no row holds a
# planted person's name, number or address, but each shares their e-mail domain).
LOOKALIKE_SCHEMA = "stexcel_bench_lookalike"
LOOKALIKE_ROWS = 2_000_000
TABLES = ("customers", "orders", "order_lines", "audit_log", "notes")
PLANTED = 5
BYTES_PER_CUSTOMER = 6_000  # all five tables together, measured

NAMES = "ARRAY['Olivia','Liam','Emma','Noah','Ava','Lucas','Mia','Ethan','Zoe','Mateo']"
SURNAMES = (
    "ARRAY['Smith','Garcia','Nguyen','Okafor','Rossi','Kim','Dubois','Patel','Cohen','Silva']"
)
METALS = "ARRAY['14K yellow gold','18K white gold','platinum 950','sterling silver','rose gold']"
WORDS = (
    "ARRAY['ring','resize','engraving','customer','called','about','the','diamond','setting',"
    "'appraisal','pickup','Friday','deposit','received','polish','clasp','repair','quote']"
)

SCHEMA_SQL = f"""
CREATE TABLE {SCHEMA}.customers (id bigint PRIMARY KEY, first_name text, last_name text,
    email text, phone text, street text, city text, created_at timestamptz, preferences jsonb);
CREATE TABLE {SCHEMA}.orders (id bigint PRIMARY KEY, customer_id bigint, order_no text,
    status text, total numeric(12, 2), placed_at timestamptz, ship_to text);
CREATE TABLE {SCHEMA}.order_lines (order_id bigint, line_no int, sku text, description text,
    quantity int, unit_price numeric(10, 2), PRIMARY KEY (order_id, line_no));
CREATE TABLE {SCHEMA}.audit_log (id bigint PRIMARY KEY, at timestamptz, actor text,
    action text, payload jsonb);
CREATE TABLE {SCHEMA}.notes (id bigint PRIMARY KEY, customer_id bigint, body text);
"""


def fill_sql(customers: int) -> list[str]:
    pick = "({0})[1 + mod({1}, 10)]"
    first, last = pick.format(NAMES, "i"), pick.format(SURNAMES, "i / 10")
    return [
        f"INSERT INTO {SCHEMA}.customers SELECT i, {first}, {last}, "
        f"lower({first}) || '.' || lower({last}) || i || '@example.com', "
        "'(' || (200 + mod(i * 7, 700)) || ') ' || lpad(mod(i * 13, 1000)::text, 3, '0') || '-' "
        "|| lpad(mod(i, 10000)::text, 4, '0'), (100 + mod(i, 9000)) || ' Main Street', "
        "'Springfield', now() - i * interval '17 minutes', jsonb_build_object('newsletter', "
        "mod(i, 3) = 0, 'ring_size', 4 + mod(i, 9), 'metal', "
        f"({METALS})[1 + mod(i, 5)]) FROM generate_series(1, {customers}) i",
        f"INSERT INTO {SCHEMA}.orders SELECT i, 1 + mod(i, {customers}), "
        "'SO-' || lpad(i::text, 9, '0'), "
        "(ARRAY['open','paid','shipped','returned'])[1 + mod(i, 4)], "
        "mod(i::bigint * 7919, 500000) / 100.0, now() - i * interval '5 minutes', "
        "(100 + mod(i, 9000)) || ' Main Street, Springfield' "
        f"FROM generate_series(1, {3 * customers}) i",
        f"INSERT INTO {SCHEMA}.order_lines SELECT 1 + i / 3, mod(i, 3), "
        "'RNG-' || lpad(mod(i, 5000)::text, 5, '0'), "
        f"({METALS})[1 + mod(i, 5)] || ' band, size ' || (4 + mod(i, 9)) || ', hand polished', "
        "1 + mod(i, 3), mod(i::bigint * 104729, 300000) / 100.0 "
        f"FROM generate_series(0, {9 * customers - 1}) i",
        f"INSERT INTO {SCHEMA}.audit_log SELECT i, now() - i * interval '1 minute', "
        "'clerk' || mod(i, 40) || '@stexcel.example', (ARRAY['order.update','customer.view',"
        "'invoice.print','stock.move'])[1 + mod(i, 4)], jsonb_build_object('order', "
        "'SO-' || lpad(mod(i, 999999)::text, 9, '0'), 'request_id', "
        "gen_random_uuid(), 'changes', jsonb_build_object('status', "
        "jsonb_build_array('open', 'paid')), 'station', 'counter-' || mod(i, 6), 'ip', "
        "'10.0.' || mod(i, 250) || '.' || mod(i, 200)) "
        f"FROM generate_series(1, {10 * customers}) i",
        f"INSERT INTO {SCHEMA}.notes SELECT i, 1 + mod(i, {customers}), "
        f"array_to_string(ARRAY(SELECT ({WORDS})[1 + mod(i * k, 18)] "
        "FROM generate_series(1, 40) k), ' ') "
        f"FROM generate_series(1, {customers}) i",
    ]


def plant_sql(person: Person, row_id: int) -> list[tuple[str, dict[str, object]]]:
    values = {
        "id": row_id,
        "first": person.value("first_name"),
        "last": person.value("last_name"),
        "email": person.value("email"),
        "phone": person.value("phone"),
        "street": person.value("street"),
    }
    return [
        (
            f"INSERT INTO {SCHEMA}.customers (id, first_name, last_name, email, phone, street) "
            "VALUES (:id, :first, :last, :email, :phone, :street)",
            values,
        ),
        (
            f"INSERT INTO {SCHEMA}.audit_log (id, at, actor, action, payload) VALUES "
            "(:id, now(), 'clerk1@stexcel.example', 'customer.update', "
            "jsonb_build_object('email', CAST(:email AS text)))",
            values,
        ),
    ]


def generate(engine: Engine, megabytes: int, planted: list[Person]) -> None:
    customers = max(1_000, megabytes * 1_000_000 // BYTES_PER_CUSTOMER)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
        conn.exec_driver_sql(SCHEMA_SQL)
        for statement in fill_sql(customers):
            conn.exec_driver_sql(statement)
        for number, person in enumerate(planted):
            for statement, values in plant_sql(person, 10**12 + number):
                conn.execute(sa.text(statement), values)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM ANALYZE {', '.join(f'{SCHEMA}.{t}' for t in TABLES)}")


def generate_hex(engine: Engine, rows: int) -> None:
    """``rows`` hex strings (md5 digests and longer), with nobody's values in them."""
    _generate(
        engine,
        HEX_SCHEMA,
        "tokens (id bigint PRIMARY KEY, token text, digest text)",
        f"SELECT i, md5(i::text), md5(i::text || 'x') || md5(i::text || 'y') "
        f"FROM generate_series(1, {rows}) i",
    )


def generate_lookalikes(engine: Engine, rows: int) -> None:
    """``rows`` customers named and mailed like the minted persons (``gi<letters>.<letters>
    @example.com``), with no digit in a name or address, so nobody's values in them."""

    def letters(seed: str, first: int, count: int) -> str:
        return f"translate(substr(md5({seed}), {first}, {count}), '0123456789', 'ghijklmnop')"

    given, family = letters("i::text", 1, 7), letters("i::text || 'x'", 1, 9)
    _generate(
        engine,
        LOOKALIKE_SCHEMA,
        "customers (id bigint PRIMARY KEY, name text, email text)",
        f"SELECT i, initcap({given}) || ' ' || initcap({family}), "
        f"'gi' || {given} || '.' || {family} || '@example.com' "
        f"FROM generate_series(1, {rows}) i",
    )


def _generate(engine: Engine, schema: str, table: str, rows: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        conn.exec_driver_sql(f"CREATE TABLE {schema}.{table}")
        conn.exec_driver_sql(f"INSERT INTO {schema}.{table.split()[0]} {rows}")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM ANALYZE {schema}.{table.split()[0]}")


def floor_seconds(engine: Engine, schema: str = SCHEMA) -> tuple[float, int]:
    """Every table of ``schema`` read once, in the server, as row text."""
    with engine.connect() as conn:
        tables = conn.exec_driver_sql(
            f"SELECT tablename FROM pg_tables WHERE schemaname = '{schema}' ORDER BY 1"
        ).scalars()
        start = time.perf_counter()
        total = sum(
            conn.exec_driver_sql(f"SELECT sum(length(t::text)) FROM {schema}.{table} t").scalar()
            or 0
            for table in list(tables)
        )
        return time.perf_counter() - start, total


def naive_seconds(engine: Engine, matcher: NeedleMatcher) -> tuple[float, int]:
    found = 0
    with engine.connect().execution_options(stream_results=True, max_row_buffer=10_000) as conn:
        start = time.perf_counter()
        for table in TABLES:
            for (text,) in conn.exec_driver_sql(f"SELECT t::text FROM {SCHEMA}.{table} t"):
                found += matcher.matches(text.encode())
        return time.perf_counter() - start, found


def sieve_seconds(store: SQLStore, people: list[Person]) -> tuple[float, int]:
    """The same scan through the server-side regex sieve alone, for contrast."""
    streamed = PostgresScanner.candidate_rows
    PostgresScanner.candidate_rows = ServerSQLScanner.candidate_rows  # type: ignore[method-assign]
    try:
        with ResidueScanner([store], timeout=3600) as scanner:
            start = time.perf_counter()
            residue = scanner.scan(people)
            return time.perf_counter() - start, len(residue.hits)
    finally:
        PostgresScanner.candidate_rows = streamed  # type: ignore[method-assign]


ADVERSARIAL = {
    "hex strings": (HEX_SCHEMA, HEX_ROWS, generate_hex),
    "look-alikes": (LOOKALIKE_SCHEMA, LOOKALIKE_ROWS, generate_lookalikes),
}


def adversarial(engine: Engine, people: list[Person], keep: bool, case: str) -> int:
    """Times the scanner on ``case``'s table against its own floor; its hits (none due)."""
    schema, rows, generate = ADVERSARIAL[case]
    with engine.connect() as conn:
        tables = conn.exec_driver_sql(
            f"SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}'"
        ).scalar()
    if not (keep and tables):
        generate(engine, rows)
    try:
        floor_seconds(engine, schema)  # warm
        floor, text_bytes = floor_seconds(engine, schema)
        store = SQLStore(URL, name=case, schemas=(schema,))
        with ResidueScanner([store]) as scanner:
            start = time.perf_counter()
            residue = scanner.scan(people)
            took = time.perf_counter() - start
        print(
            f"adversarial: {rows:,} rows of {case}, {text_bytes / 1e6:.0f} MB as row "
            f"text; floor {floor:.2f} s, residue scanner {took:.2f} s = {took / floor:.2f}x floor"
        )
        return len(residue.hits)
    finally:
        if not keep:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the schema")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument(
        "--contrast-sieve", action="store_true", help="time the regex sieve alone too"
    )
    parser.add_argument(
        "--skip-hex", action="store_true", help=f"skip the {HEX_ROWS:,} hex strings table"
    )
    parser.add_argument(
        "--skip-lookalikes",
        action="store_true",
        help=f"skip the {LOOKALIKE_ROWS:,} look-alike customers table",
    )
    args = parser.parse_args()
    engine = sa.create_engine(URL)
    # Fixed seeds: a kept schema's planted persons are the same on the next run.
    mint.reseed("stexcel-bench")
    people = [assemble(given=f"Gi{i}", family=f"Fa{i}") for i in range(args.people)]
    planted = people[:PLANTED]
    with engine.connect() as conn:
        exists = conn.exec_driver_sql(
            f"SELECT count(*) FROM pg_tables WHERE schemaname = '{SCHEMA}'"
        ).scalar()
    if not (args.keep and exists == len(TABLES)):
        start = time.perf_counter()
        generate(engine, args.megabytes, planted)
        print(f"generated in {time.perf_counter() - start:.0f} s")
    try:
        with engine.connect() as conn:
            size = int(
                conn.exec_driver_sql(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                    f"ON n.oid = c.relnamespace WHERE n.nspname = '{SCHEMA}' AND c.relkind = 'r'"
                ).scalar()
                or 0
            )
            rows = sum(
                conn.exec_driver_sql(f"SELECT count(*) FROM {SCHEMA}.{t}").scalar() or 0
                for t in TABLES
            )
        floor_seconds(engine)  # warm the cache: every figure below reads it warm
        floor, text_bytes = floor_seconds(engine)
        needles = sum(len(p.needles) for p in people)
        print(
            f"database {size / 1e6:.0f} MB on disk, {rows:,} rows, {text_bytes / 1e6:.0f} MB as "
            f"row text; {args.people} persons, {needles} needles"
        )
        print(f"floor (read every table once): {floor:.2f} s")
        store = SQLStore(URL, name="bench", schemas=(SCHEMA,))
        with ResidueScanner([store]) as scanner:
            start = time.perf_counter()
            residue = scanner.scan(people)
            took = time.perf_counter() - start
        hits = len(residue.hits)
        print(f"residue scanner: {took:.2f} s = {took / floor:.2f}x floor ({hits} hits)")
        if args.contrast_sieve:
            took, hits = sieve_seconds(store, people)
            print(f"sieve (the scan before COPY streams): {took:.2f} s = {took / floor:.2f}x")
        if not args.skip_naive:
            naive, _ = naive_seconds(engine, NeedleMatcher(n for p in people for n in p.needles))
            ratio = naive / floor
            print(f"naive (fetch every row, search in Python): {naive:.2f} s = {ratio:.2f}x")
        skipped = {"hex strings": args.skip_hex, "look-alikes": args.skip_lookalikes}
        for case in ADVERSARIAL:
            if skipped[case]:
                continue
            wrong = adversarial(engine, people, args.keep, case)
            if wrong:
                print(f"WRONG: {wrong} hits in the {case}, which hold nobody", file=sys.stderr)
                return 1
        found = {hit.person for hit in residue.hits}
        expected = {p.canary for p in planted}
        if found != expected:
            print(f"WRONG: planted {sorted(expected)}, found {sorted(found)}", file=sys.stderr)
            return 1
        return 0
    finally:
        if not args.keep:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {SCHEMA} CASCADE")
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
