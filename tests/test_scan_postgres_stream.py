"""PostgreSQL tables are streamed once (COPY) and searched as they arrive: what the
stream's text format changes (escapes, NULLs, keys, encoded cells) changes no finding."""

from __future__ import annotations

import base64
import json
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from availability import require
from pytest_stexcel_privacy import Person, SQLStore
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import (
    Residue,
    ResidueScanner,
    block_marks,
    hyperscan_search,
    pg_ranges,
    postgresql,
)
from pytest_stexcel_privacy.scan.copy_stream import (
    COPY_TEXT,
    JOINED,
    LineFormat,
    StreamSearch,
    blocks,
    copy_escaped,
    copy_fields,
    stream_search,
)
from pytest_stexcel_privacy.scan.decoders import BUILTIN_VALUE_DECODERS, sniffed_by_any
from pytest_stexcel_privacy.scan.engine_race import TIMED_BYTES
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher
from pytest_stexcel_privacy.scan.pg_ranges import connections_wanted
from servers import ScratchDatabase, scratch_database
from test_value_decoders import ROT13, signed_session


@pytest.fixture(params=["one stream", "page ranges"])
def read_as(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How the scan reads these small tables: as one stream on its own connection, as it
    does, or by the range readers, as it reads a table larger than one range."""
    if request.param == "page ranges":
        monkeypatch.setattr(postgresql, "STREAMED_UP_TO", -1)
    return str(request.param)


@pytest.fixture
def postgres(tmp_path: Path, read_as: str) -> Iterator[ScratchDatabase]:
    with scratch_database("postgresql", tmp_path) as scratch:
        yield scratch


@pytest.fixture
def ann() -> Person:
    return assemble(given="Ann", family="Lee")


def scan(db: ScratchDatabase, *people: Person) -> Residue:
    with ResidueScanner([SQLStore(db.url, name="db", schemas=db.schemas)]) as scanner:
        return scanner.scan(people)


def test_needles_with_escaped_characters_are_found_in_the_right_cell(
    postgres: ScratchDatabase,
) -> None:
    odd = assemble(given="Ann\\Marie", family="O\tBrien")
    postgres.run("CREATE TABLE people (id TEXT PRIMARY KEY, a TEXT, b TEXT, c TEXT)")
    with postgres.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO people VALUES ('k\\1', NULL, :b, :c), ('k2', :a, NULL, 'x')"),
            {"a": f"line\n{odd.first_name}\n", "b": f"x\t{odd.last_name}", "c": "\\N"},
        )
    found = {(h.location.rsplit(".", 1)[1], h.locator, h.field) for h in scan(postgres, odd)}
    assert ("b", "id=k\\1", "last_name") in found
    assert ("a", "id=k2", "first_name") in found


def test_encoded_cells_are_decoded_and_hex_strings_are_not_needed(
    postgres: ScratchDatabase, ann: Person
) -> None:
    postgres.run("CREATE TABLE sessions (id UUID PRIMARY KEY, data TEXT, digest TEXT)")
    session = signed_session({"name": ann.full_name})
    packed = base64.b64encode(zlib.compress(json.dumps({"m": ann.email}).encode())).decode()
    keys = [uuid.uuid4() for _ in range(3)]
    with postgres.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO sessions VALUES (:k, :d, :h)"),
            [
                {"k": keys[0], "d": session, "h": "ab" * 40},
                {"k": keys[1], "d": packed, "h": None},
                {"k": keys[2], "d": "0123456789abcdef" * 5 + "/zz", "h": "x"},
            ],
        )
    found = {(h.locator, h.field) for h in scan(postgres, ann)}
    assert (f"id={keys[0]}, in signed session", "last_name") in found
    assert (f"id={keys[1]}, in base64 > zlib", "email") in found


def test_a_table_without_a_key_points_at_the_row_by_ctid(
    postgres: ScratchDatabase, ann: Person
) -> None:
    postgres.run("CREATE TABLE loose (note TEXT)")
    with postgres.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO loose VALUES ('x'), (:v)"), {"v": ann.email})
    (hit,) = [h for h in scan(postgres, ann) if h.field == "email"]
    assert hit.location.endswith("loose.note")
    assert hit.locator == "ctid=(0,2)"


def test_a_key_of_several_columns_points_at_the_row_in_the_keys_order(
    postgres: ScratchDatabase, ann: Person
) -> None:
    """Key columns are cells too, read once: the locator takes them in the key's order
    (not the table's), and a needle in a key column is reported like any other cell's."""
    postgres.run(
        "CREATE TABLE visits (note TEXT, email TEXT, day INTEGER, PRIMARY KEY (day, email))"
    )
    with postgres.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO visits VALUES ('x', 'a@b.example', 1), (:n, :e, 3)"),
            {"n": f"called {ann.full_name}", "e": ann.email},
        )
    found = {(h.location.rsplit(".", 1)[1], h.field, h.locator) for h in scan(postgres, ann)}
    assert {(where, field) for where, field, _ in found} == {
        ("email", "email"),
        ("note", "first_name"),
        ("note", "last_name"),
    }
    # one row; the e-mail address in its locator is masked, as everywhere in a report
    (locator,) = {locator for _, _, locator in found}
    assert locator.startswith("day=3, email=")
    assert len(locator) > len("day=3, email=")


def test_copy_text_is_read_back_exactly() -> None:
    raw = b"a\\b\tc\nd\re\x08f\x0cg\x0bh"
    assert copy_fields(copy_escaped(raw) + b"\t\\N\t") == [raw, None, b""]


def test_only_lines_with_a_needle_or_an_encoded_cell_are_read(ann: Person) -> None:
    search = StreamSearch(NeedleMatcher(ann.needles))
    lines = [
        b"#1\tplain words",
        b"#2\t" + copy_escaped(f"x {ann.email} y".encode()),
        b"#3\t" + b"0123456789abcdef" * 4,  # a hex string: no encoding
        b"#4\t" + b"0123456789abcdef" * 4 + b"g",  # not hex after all
        b"#5\tc2lnbmVkIHNlc3Npb24gZGF0YQ",  # base64
        b"#6\t" + b"ab" * 40,  # longer than the sniffs read
        b"#7\tshort/base64",
        b"#8\tolivia.johnson1234@example.com",  # a dot within the 16: in no encoding
        b"#9\t.eJyrVspMUbJSSkksSVWqBQAfqwRs:1tW3xk:c2lnbmF0dXJl",  # a signed value's dot
    ]
    block = next(iter(blocks(line + b"\n" for line in lines)))
    assert [line.split(b"\t")[0] for line in search.lines(block)] == [
        b"#2",
        b"#4",
        b"#5",
        b"#6",
        b"#9",
    ]


def test_rows_that_only_look_encoded_are_dropped_before_python_builds_them(
    tmp_path: Path, ann: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cell of 16 letters before an ``@`` starts like base64, but no decoder opens it:
    the range reader drops its row unbuilt (a table of them took 30 times the floor)."""
    monkeypatch.setattr(postgresql, "STREAMED_UP_TO", -1)  # read by the range readers
    built: list[list[object]] = []
    build = pg_ranges._row

    def counted(
        fields: list[bytes | None], table: pg_ranges.TableRead, kept: set[int] | None = None
    ) -> list[object]:
        row = build(fields, table, kept)
        built.append(row)
        return row

    monkeypatch.setattr(pg_ranges, "_row", counted)
    values = [
        "abcdefghijklmnopqrst@example.com",  # marked as maybe encoded, opened by none
        "firstname.lastname@example.com",  # not even marked
        signed_session({"name": ann.full_name}),
        ann.email,
    ]
    with scratch_database("postgresql", tmp_path) as db:
        db.run("CREATE TABLE people (id INTEGER PRIMARY KEY, mail TEXT)")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO people VALUES (:i, :v)"),
                [{"i": number, "v": value} for number, value in enumerate(values, start=1)],
            )
        hits = scan(db, ann).hits
    assert {hit.locator.split(",")[0] for hit in hits} == {"id=3", "id=4"}
    assert sorted(row[0] for row in built) == ["3", "4"]


@pytest.mark.parametrize(
    ("dialect", "binary"),
    [("postgresql", ""), ("postgresql", ", photo BYTEA"), ("mariadb", "")],
    ids=["postgresql-stream", "postgresql-sieve", "mariadb-sieve"],
)
def test_a_stores_own_decoder_sees_every_value(
    dialect: str, binary: str, tmp_path: Path, ann: Person
) -> None:
    """A decoder of the store's own may recognise any value, short or not base64-like: no
    sieve or stream test can know which, so every row is read back for it."""
    import codecs

    value = "R13:" + codecs.encode(ann.email, "rot13")
    with scratch_database(dialect, tmp_path) as db:
        db.run(f"CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT{binary})")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO t (id, v) VALUES (1, 'plain'), (2, :v)"), {"v": value}
            )
        store = SQLStore(db.url, name="db", schemas=db.schemas, decoders=[ROT13])
        with ResidueScanner([store]) as scanner:
            found = {(h.locator, h.field) for h in scanner.scan([ann])}
    assert found == {("id=2, in rot13", "email")}


def test_a_store_whose_client_encoding_is_not_utf8_is_still_searched(
    postgres: ScratchDatabase,
) -> None:
    # The stream would come in LATIN1, where "ë" is one byte and no UTF-8 needle matches.
    zoe = assemble(given="Zoë", family="Brontë")
    postgres.run("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
    with postgres.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO people VALUES (1, :n)"), {"n": zoe.last_name})
    url = sa.make_url(postgres.url).update_query_dict({"options": "-c client_encoding=LATIN1"})
    store = SQLStore(url.render_as_string(hide_password=False), name="db", schemas=postgres.schemas)
    with ResidueScanner([store]) as scanner:
        found = {(h.location.rsplit(".", 1)[1], h.needle.form) for h in scanner.scan([zoe])}
    assert ("name", "exact") in found  # not only the canary inside it


def test_cells_holding_the_separators_of_joined_rows_are_read_back_exactly(
    postgres: ScratchDatabase, ann: Person
) -> None:
    """Rows are joined by \\x1e and cells by \\x1f, unescaped (``pg_ranges.py``): a cell
    holding either must not shift the cells of its row or of the next."""
    postgres.run("CREATE TABLE odd (id INTEGER PRIMARY KEY, a TEXT, b TEXT)")
    with postgres.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO odd VALUES (1, :a, 'x'), (2, 'y', :b)"),
            {"a": "one\x1etwo\x1fthree", "b": f"z\x1f{ann.email}"},
        )
    found = {(h.location.rsplit(".", 1)[1], h.locator, h.field) for h in scan(postgres, ann)}
    assert ("b", "id=2", "email") in found


def test_a_table_read_in_many_page_ranges_is_read_whole(
    postgres: ScratchDatabase, ann: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgresql, "RANGE_BYTES", 1)  # one page per range
    postgres.run("CREATE TABLE many (id INTEGER PRIMARY KEY, v TEXT)")
    with postgres.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO many SELECT i, repeat('filler ', 50) FROM generate_series(1, 999) i"
            )
        )
        conn.execute(sa.text("INSERT INTO many VALUES (0, :v), (1000, :v)"), {"v": ann.email})
        pages = conn.execute(sa.text("SELECT pg_relation_size('many') / 8192")).scalar()
    assert pages > 10
    hits = [h.locator for h in scan(postgres, ann) if h.field == "email"]
    assert sorted(hits) == ["id=0", "id=1000"]


def test_large_ranges_are_searched_alike_by_both_engines_of_the_race(
    tmp_path: Path, ann: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ranges of 64 kB and more are searched in turn by the two searches and by
    Hyperscan's one pass (``block_marks.py``): the same rows are found whichever did."""
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")
    monkeypatch.setattr(postgresql, "STREAMED_UP_TO", -1)  # read by the range readers
    monkeypatch.setattr(postgresql, "RANGE_BYTES", 128 * 1024)
    block_marks.block_marks.cache_clear()
    # A new race, its second engine built by one large value before the scan: else the
    # scan's other threads may search every range while the one pass is compiled.
    list(stream_search(NeedleMatcher(ann.needles), JOINED).lines(b"x" * TIMED_BYTES))
    searched: list[str] = []

    def count_searches(engine: type[Any]) -> None:
        search = engine.find_matches_as_indexes

        def counted(self: Any, haystack: bytes, overlapping: bool = False) -> Any:
            searched.append(type(self).__name__)
            return search(self, haystack, overlapping)

        monkeypatch.setattr(engine, "find_matches_as_indexes", counted)

    count_searches(block_marks.TwoSearches)
    count_searches(block_marks.OnePass)
    packed = base64.b64encode(zlib.compress(json.dumps({"m": ann.email}).encode())).decode()
    with scratch_database("postgresql", tmp_path) as db:
        db.run("CREATE TABLE big (id INTEGER PRIMARY KEY, token TEXT, mail TEXT)")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO big SELECT i, "
                    "CASE WHEN i % 1000 = 500 THEN :packed ELSE md5(i::text) || md5(i::text) END, "
                    "CASE WHEN i % 1000 = 0 THEN :mail ELSE 'x' END "
                    "FROM generate_series(1, 8000) i"
                ),
                {"mail": ann.email.upper(), "packed": packed},
            )
        hits = {h.locator for h in scan(db, ann) if h.field == "email"}
    # in every range: an address in capitals, and one compressed in base64, found only
    # where its cell is marked as maybe encoded, and decoded
    assert hits == {f"id={n}" for n in range(1000, 8001, 1000)} | {
        f"id={n}, in base64 > zlib" for n in range(500, 8000, 1000)
    }
    assert {"TwoSearches", "OnePass"} <= set(searched)


def test_the_scan_sees_the_database_as_it_was_when_it_began(
    postgres: ScratchDatabase, ann: Person
) -> None:
    """Every connection of a split scan reads the scan's one snapshot: a row written after
    the scan began is not half seen."""
    postgres.run("CREATE TABLE a (v TEXT)", "CREATE TABLE b (v TEXT)")
    with postgres.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO a VALUES (:v)"), {"v": ann.email})
    store = SQLStore(postgres.url, name="db", schemas=postgres.schemas)
    with ResidueScanner([store]) as scanner:
        hits = scanner._scanners[0].scan(NeedleMatcher(ann.needles), [])
        try:
            first = next(hits)  # table a read; table b not yet
            with postgres.engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO b VALUES (:v)"), {"v": ann.email})
            later = list(hits)
        finally:
            hits.close()
    assert {h.location.rsplit(".", 1)[0].rsplit(".", 1)[1] for h in [first, *later]} == {"a"}


def test_a_server_refusing_more_connections_is_read_as_one_stream(
    postgres: ScratchDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The range readers' connections cannot be had: every table is one COPY stream on
    the scan's connection, escapes and all, and nothing is missed."""
    odd = assemble(given="Ann\\Marie", family="O\tBrien")
    postgres.run("CREATE TABLE people (id TEXT PRIMARY KEY, a TEXT, b TEXT)")
    with postgres.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO people VALUES ('k\\1', NULL, :b), ('k2', :a, NULL)"),
            {"a": f"line\n{odd.first_name}\n", "b": f"x\t{odd.last_name}"},
        )
    store = SQLStore(postgres.url, name="db", schemas=postgres.schemas)
    with ResidueScanner([store]) as scanner:
        engine = scanner._scanners[0].engine
        connect = engine.raw_connection
        opened: list[object] = []

        def only_one() -> object:
            if opened:
                raise sa.exc.TimeoutError("too many connections")
            opened.append(connect())
            return opened[-1]

        monkeypatch.setattr(engine, "raw_connection", only_one)
        hits = scanner.scan([odd])
    found = {(h.location.rsplit(".", 1)[1], h.locator, h.field) for h in hits}
    assert len(opened) == 1
    assert ("b", "id=k\\1", "last_name") in found
    assert ("a", "id=k2", "first_name") in found


def test_every_cell_of_a_row_holding_a_needle_is_reported(
    postgres: ScratchDatabase, ann: Person
) -> None:
    """Only the cells that made a line worth reading are searched again; each of them."""
    postgres.run("CREATE TABLE card (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT, d TEXT)")
    token = base64.b64encode(ann.email.encode()).decode()
    with postgres.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO card VALUES (1, :a, 'plain', :c, :d)"),
            {"a": ann.email, "c": f"call {ann.phone}", "d": token},
        )
    found = {(h.location.rsplit(".", 1)[1], h.locator) for h in scan(postgres, ann)}
    assert {("a", "id=1"), ("c", "id=1")} <= found
    assert ("d", "id=1") in found or ("d", "id=1, in base64") in found
    assert not any(column == "b" for column, _ in found)


def test_a_modules_own_engine_lends_no_connections_to_the_range_readers(
    postgres: ScratchDatabase, ann: Person, monkeypatch: pytest.MonkeyPatch, read_as: str
) -> None:
    """``SQLStore(engine)``: the pool is the module's, and a full one would make every scan
    wait for its timeout; the scan reads each table as one stream on its own connection."""
    postgres.run("CREATE TABLE people (v TEXT)")
    with postgres.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO people VALUES (:v)"), {"v": ann.email})
    engine = sa.create_engine(postgres.url, pool_size=10)  # room enough to lend
    readers: list[object] = []
    reader = postgresql.RangeReader
    monkeypatch.setattr(postgresql, "RangeReader", lambda *a: readers.append(a) or reader(*a))
    try:
        with ResidueScanner([SQLStore(engine, name="db", schemas=postgres.schemas)]) as scanner:
            assert {h.field for h in scanner.scan([ann])} == {"email"}
        with ResidueScanner([SQLStore(postgres.url, name="db", schemas=postgres.schemas)]) as own:
            assert {h.field for h in own.scan([ann])} == {"email"}
    finally:
        engine.dispose()
    # the scanner's own engine's, and only its (none for a table of one range)
    assert len(readers) == (1 if read_as == "page ranges" else 0)


def test_a_scan_of_small_tables_opens_no_other_connection(
    postgres: ScratchDatabase, ann: Person, monkeypatch: pytest.MonkeyPatch, read_as: str
) -> None:
    """A table of one range is streamed on the scan's own connection; only a larger one
    has the range readers opened for it, once a scan."""
    postgres.run("CREATE TABLE small (v TEXT)", "CREATE TABLE other (v TEXT)")
    with postgres.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO small VALUES (:v)"), {"v": ann.email})
        conn.execute(sa.text("INSERT INTO other VALUES ('nothing personal')"))
    store = SQLStore(postgres.url, name="db", schemas=postgres.schemas)
    with ResidueScanner([store]) as scanner:
        engine = scanner._scanners[0].engine
        connect = engine.raw_connection
        opened: list[object] = []
        monkeypatch.setattr(engine, "raw_connection", lambda: opened.append(1) or connect())
        for _ in range(2):
            assert {h.location.rsplit(".", 2)[1] for h in scanner.scan([ann])} == {"small"}
    readers = connections_wanted() if read_as == "page ranges" else 0
    assert len(opened) == 2 * (1 + readers)  # each scan: its own, and the readers'


_CELL_CHARACTERS = "0123456789abcdefABCDEFghijxyzGHXYZ+/_=:.-@ #"
TEXT_ENCODINGS = tuple(d for d in BUILTIN_VALUE_DECODERS if d.name in ("signed session", "base64"))


@settings(max_examples=1000, deadline=None)
@given(
    cell=st.one_of(
        st.text(_CELL_CHARACTERS, min_size=12, max_size=90),
        st.builds(
            lambda head, rest: head + rest,
            st.sampled_from([".", "", "0123456789abcdef" * 4, "abcdefgh"]),
            st.text(_CELL_CHARACTERS, min_size=8, max_size=40),
        ),
    ),
    line_format=st.sampled_from([COPY_TEXT, JOINED]),
)
def test_every_cell_a_builtin_decoder_would_open_is_read(
    cell: str, line_format: LineFormat
) -> None:
    """The stream's test for a cell that may be encoded lets through at least every cell a
    built-in text encoding's decoder recognises: a cell it skips is never decoded (a missed
    encoded needle would be a wrong pass). The binary formats' decoders are left out: a
    text column holds no compressed stream, which is no valid UTF-8 (bytea columns go
    through the sieve)."""
    data = cell.encode()
    search = StreamSearch(NeedleMatcher(()), line_format)
    sep = line_format.cell
    line = b"#1" + sep + copy_escaped(data) if line_format.escaped else b"#1" + sep + data
    read = list(search.lines(line + line_format.line))
    if sniffed_by_any(data, TEXT_ENCODINGS):
        assert read == [line]
