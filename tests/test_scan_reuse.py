"""A store's scan is reused only while the store provably did not change (scan/reuse.py),
and a row or file found clean is not searched again only while its bytes stay the same.

Each test makes the change a reused scan would miss, and shows it found; and shows the
reuse does happen when nothing changed (the scanner's own read is counted).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_stexcel_privacy import FileStore, Person, S3Store, SQLStore
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import ResidueScanner
from pytest_stexcel_privacy.scan.clean_values import forget_clean_values
from pytest_stexcel_privacy.scan.files import FileScanner
from pytest_stexcel_privacy.scan.s3 import S3Scanner
from pytest_stexcel_privacy.scan.searchable import forget_searchable_rows
from pytest_stexcel_privacy.scan.sqlite import SQLiteScanner


@pytest.fixture(autouse=True)
def nothing_remembered() -> Iterator[None]:
    forget_clean_values()
    forget_searchable_rows()
    yield
    forget_clean_values()
    forget_searchable_rows()


@pytest.fixture
def ann() -> Person:
    return assemble(given="Ann", family="Reuse")


@pytest.fixture
def bob() -> Person:
    return assemble(given="Bob", family="Reuse")


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times each kind of store was really read."""
    counted: dict[str, int] = {}
    for kind, scanner in (("sql", SQLiteScanner), ("files", FileScanner), ("s3", S3Scanner)):
        real = scanner.scan

        def counting(self: Any, *args: Any, _real: Any = real, _kind: str = kind) -> Any:
            counted[_kind] = counted.get(_kind, 0) + 1
            return _real(self, *args)

        monkeypatch.setattr(scanner, "scan", counting)
    return counted


def fields(residue: object) -> set[tuple[str, str]]:
    return {(hit.person, hit.field) for hit in residue}  # type: ignore[attr-defined]


def customers_db(path: Path, *emails: str) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
    db.executemany("INSERT INTO customers (email) VALUES (?)", [(e,) for e in emails])
    db.commit()
    return db


def test_an_unchanged_database_is_read_once_and_a_commit_is_seen(
    tmp_path: Path, ann: Person, bob: Person, reads: dict[str, int]
) -> None:
    db = customers_db(tmp_path / "erp.db", "someone@example.com")
    with ResidueScanner([SQLStore(f"sqlite:///{tmp_path / 'erp.db'}", name="db")]) as scanner:
        for _ in range(4):
            assert not scanner.scan([ann, bob]).hits
        assert reads["sql"] == 2  # the first names the files; the second is the witnessed one
        assert not scanner.scan([ann]).hits  # fewer needles: still answered by the last scan
        assert reads["sql"] == 2
        db.execute("UPDATE customers SET email = ?", (ann.email,))
        db.commit()
        assert fields(scanner.scan([ann, bob])) == {(ann.canary, "email")}
        assert reads["sql"] == 3
        assert fields(scanner.scan([bob])) == set()  # a needle no longer asked for: no hit


def test_new_needles_are_searched_for_in_an_unchanged_database(
    tmp_path: Path, ann: Person, bob: Person, reads: dict[str, int]
) -> None:
    customers_db(tmp_path / "erp.db", bob.email)
    with ResidueScanner([SQLStore(f"sqlite:///{tmp_path / 'erp.db'}", name="db")]) as scanner:
        scanner.scan([ann])
        scanner.scan([ann])
        assert {h.field for h in scanner.scan([ann, bob])} >= {"email"}
        assert reads["sql"] == 3


def test_a_database_file_replaced_outside_sqlite_is_read_again(
    tmp_path: Path, ann: Person, reads: dict[str, int]
) -> None:
    path = tmp_path / "erp.db"
    customers_db(path, "someone@example.com").close()
    customers_db(tmp_path / "other.db", ann.email).close()  # the same size
    with ResidueScanner([SQLStore(f"sqlite:///{path}", name="db")]) as scanner:
        scanner.scan([ann])
        scanner.scan([ann])
        os.replace(tmp_path / "other.db", path)  # a restore from a backup: no commit here
        assert {h.field for h in scanner.scan([ann])} == {"email"}


def test_no_connection_is_kept_open_between_scans(tmp_path: Path, ann: Person) -> None:
    # The module's last connection closing checkpoints and removes the write-ahead log; a
    # connection the scanner kept open would keep it, and the residue in it.
    path = tmp_path / "erp.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
    db.execute("INSERT INTO customers (email) VALUES (?)", (ann.email,))
    db.commit()
    db.execute("DELETE FROM customers")
    db.commit()
    with ResidueScanner([SQLStore(f"sqlite:///{path}", name="db")]) as scanner:
        scanner.scan([ann])
        scanner.scan([ann])
        assert Path(f"{path}-wal").exists()
        db.close()
        assert not Path(f"{path}-wal").exists()
        assert not scanner.scan([ann]).hits


def test_an_attached_database_in_memory_is_read_every_time(
    tmp_path: Path, ann: Person, reads: dict[str, int]
) -> None:
    import sqlalchemy as sa

    customers_db(tmp_path / "erp.db", "someone@example.com").close()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'erp.db'}", poolclass=sa.pool.StaticPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("ATTACH DATABASE ':memory:' AS scratch")
        conn.exec_driver_sql("CREATE TABLE scratch.notes (body TEXT)")
    store = SQLStore(engine, name="db", schemas=("main", "scratch"))
    with ResidueScanner([store]) as scanner:
        scanner.scan([ann])
        scanner.scan([ann])
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO scratch.notes VALUES (?)", (ann.email,))
        assert {h.field for h in scanner.scan([ann])} == {"email"}
        assert reads["sql"] == 3


def test_without_reuse_every_scan_reads(tmp_path: Path, ann: Person, reads: dict[str, int]) -> None:
    customers_db(tmp_path / "erp.db", "someone@example.com")
    store = SQLStore(f"sqlite:///{tmp_path / 'erp.db'}", name="db")
    with ResidueScanner([store], reuse=False) as scanner:
        for _ in range(3):
            scanner.scan([ann])
    assert reads["sql"] == 3


def test_a_file_rewritten_with_the_same_size_at_once_is_searched_again(
    tmp_path: Path, ann: Person, reads: dict[str, int]
) -> None:
    # Same size, same modification time: only the bytes tell the change.
    target = tmp_path / "cache.txt"
    target.write_bytes(b"x" * len(ann.email))
    stamp = target.stat()
    with ResidueScanner([FileStore(tmp_path, name="files")]) as scanner:
        assert not scanner.scan([ann]).hits
        assert not scanner.scan([ann]).hits
        target.write_bytes(ann.email.encode())
        os.utime(target, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
        assert {h.field for h in scanner.scan([ann])} == {"email"}


@pytest.fixture
def bucket(s3_server: str) -> tuple[Any, str]:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    name = f"reuse-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=name)
    return client, name


def test_the_suites_own_s3_server_proves_a_bucket_unchanged(
    bucket: tuple[Any, str], s3_server: str, ann: Person, reads: dict[str, int]
) -> None:
    client, name = bucket
    client.put_object(Bucket=name, Key="a.txt", Body=b"nothing personal")
    with ResidueScanner([S3Store(name, endpoint_url=s3_server, name="files")]) as scanner:
        for _ in range(3):
            assert not scanner.scan([ann]).hits
        assert reads["s3"] == 1
        client.put_object_tagging(
            Bucket=name, Key="a.txt", Tagging={"TagSet": [{"Key": "who", "Value": ann.email}]}
        )
        assert {h.field for h in scanner.scan([ann])} == {"email"}
        assert reads["s3"] == 2


def test_another_s3_endpoint_is_read_every_time(
    bucket: tuple[Any, str], s3_server: str, ann: Person, reads: dict[str, int]
) -> None:
    _, name = bucket
    # the same server by another name: nothing the suite counts proves it unchanged
    other = s3_server.replace("127.0.0.1", "localhost")
    with ResidueScanner([S3Store(name, endpoint_url=other, name="files")]) as scanner:
        scanner.scan([ann])
        scanner.scan([ann])
    assert reads["s3"] == 2


def test_a_row_is_searched_again_for_other_needles(
    tmp_path: Path, ann: Person, bob: Person
) -> None:
    # The row's decoded text is remembered, not its verdict: Bob's base64 is found after a
    # scan for Ann found the same row clean.
    import base64

    db = sqlite3.connect(tmp_path / "erp.db")
    db.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body TEXT)")
    encoded = base64.b64encode(f'{{"email": "{bob.email}"}}'.encode()).decode()
    db.execute("INSERT INTO blobs (body) VALUES (?)", (encoded,))
    db.commit()
    store = SQLStore(f"sqlite:///{tmp_path / 'erp.db'}", name="db")
    with ResidueScanner([store], reuse=False) as scanner:
        assert not scanner.scan([ann]).hits
        assert {h.field for h in scanner.scan([bob])} == {"email"}


def test_the_lifecycle_finds_and_reduces_the_same_with_and_without_reuse(
    pytester: pytest.Pytester,
) -> None:
    from report_reading import REPORT_DIR, REPORT_OPTION, read_report
    from suites import IMPORTS, suite_class

    pytester.makepyfile(
        test_variant=IMPORTS
        + suite_class("TestVariant", "mutants.OptOutLostOnReregistration", "JewelryAdapter")
    )
    verdicts = []
    for reuse in ((), ("--privacy-rescan",)):
        pytester.runpytest_inprocess(
            "-p", "no:cacheprovider", "-k", "lifecycle", "--privacy-max-examples=1",
            "--hypothesis-profile=privacy-dev", "--privacy-shrink-seconds=120",
            REPORT_OPTION, *reuse,
        )  # fmt: skip
        report = read_report(pytester.path / REPORT_DIR)
        verdicts.append(
            [(f["clause"], f["summary"], f["example"]) for f in report.findings(status="failed")]
        )
    assert verdicts[0], "the mutant was not caught"
    assert verdicts[0] == verdicts[1]


def requests_of(
    monkeypatch: pytest.MonkeyPatch, scanner: ResidueScanner, operation: str
) -> list[str]:
    """What the S3 scanner's client is asked through ``operation``: the key, or for
    ``get_paginator`` the operation paginated. The client is shared by the process, so
    the count is undone with the test."""
    client = scanner._scanners[0].client  # type: ignore[attr-defined]
    asked: list[str] = []
    real = getattr(client, operation)

    def counting(*args: Any, **ask: Any) -> Any:
        asked.append(ask["Key"] if "Key" in ask else args[0])
        return real(*args, **ask)

    monkeypatch.setattr(client, operation, counting)
    return asked


def test_an_unchanged_bucket_is_listed_once_and_searched_for_new_needles(
    bucket: tuple[Any, str],
    s3_server: str,
    ann: Person,
    bob: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, name = bucket
    client.put_object(Bucket=name, Key="a.txt", Body=f"for {bob.email}".encode())
    with ResidueScanner([S3Store(name, endpoint_url=s3_server, name="files")]) as scanner:
        listed = requests_of(monkeypatch, scanner, "get_paginator")
        assert not scanner.scan([ann]).hits
        assert {h.field for h in scanner.scan([bob])} == {"email"}  # new needles, same listing
        assert listed == ["list_object_versions"]
        client.put_object(Bucket=name, Key="b.txt", Body=f"for {ann.email}".encode())
        assert {(h.location, h.field) for h in scanner.scan([ann])} == {("b.txt", "email")}
        client.delete_object(Bucket=name, Key="b.txt")  # gone: the bucket keeps no versions
        assert not scanner.scan([ann]).hits
        assert listed == ["list_object_versions"] * 3


def test_an_untouched_unversioned_object_is_read_once_and_a_new_body_is_seen(
    bucket: tuple[Any, str],
    s3_server: str,
    ann: Person,
    bob: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An unversioned bucket's object has no version id: the same key can hold other bytes.
    client, name = bucket
    client.put_object(Bucket=name, Key="brief.txt", Body=f"for {bob.email}".encode())
    client.put_object(Bucket=name, Key="other.txt", Body=b"nothing personal")
    with ResidueScanner([S3Store(name, endpoint_url=s3_server, name="files")]) as scanner:
        read = requests_of(monkeypatch, scanner, "get_object")
        assert not scanner.scan([ann]).hits
        assert {h.field for h in scanner.scan([bob])} == {"email"}
        assert sorted(read) == ["brief.txt", "other.txt"]  # each body read once
        client.put_object(Bucket=name, Key="brief.txt", Body=f"now {ann.email}".encode())
        assert {(h.location, h.field) for h in scanner.scan([ann])} == {("brief.txt", "email")}
        assert not scanner.scan([bob]).hits  # the old body is gone
        assert sorted(read) == ["brief.txt", "brief.txt", "other.txt"]


def test_without_reuse_every_listing_body_and_tag_set_is_read_again(
    bucket: tuple[Any, str],
    s3_server: str,
    ann: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # --privacy-rescan: what the server's counts prove unchanged is read all the same
    client, name = bucket
    client.put_object(Bucket=name, Key="brief.txt", Body=b"nothing personal")
    store = S3Store(name, endpoint_url=s3_server, name="files")
    with ResidueScanner([store], reuse=False) as scanner:
        listed = requests_of(monkeypatch, scanner, "get_paginator")
        read = requests_of(monkeypatch, scanner, "get_object")
        tagged = requests_of(monkeypatch, scanner, "get_object_tagging")
        for _ in range(3):
            assert not scanner.scan([ann]).hits
    assert (len(listed), read, tagged) == (3, ["brief.txt"] * 3, ["brief.txt"] * 3)


def test_a_client_of_the_suites_s3_server_is_shared_while_the_credentials_stay(
    s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_stexcel_privacy.scan.s3 import s3_client

    store = S3Store("any", endpoint_url=s3_server, name="files", region="us-east-1")
    first = s3_client(store)
    assert s3_client(store) is first
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "another-key")
    assert s3_client(store) is not first  # other credentials: another client
    other = S3Store("any", endpoint_url=s3_server.replace("127.0.0.1", "localhost"), name="f")
    assert s3_client(other) is not s3_client(other)  # not the suite's server: never shared


def test_the_clients_of_a_stopped_s3_server_are_dropped(s3_server: str) -> None:
    from pytest_stexcel_privacy.observe.s3_server import running_s3_server
    from pytest_stexcel_privacy.scan import s3

    with running_s3_server() as endpoint:
        s3.s3_client(S3Store("any", endpoint_url=endpoint, name="files"))
        assert any(key[0] == endpoint for key in s3._SERVED_CLIENTS)
    s3.s3_client(S3Store("any", endpoint_url=s3_server, name="files"))  # another server's
    assert not any(key[0] == endpoint for key in s3._SERVED_CLIENTS)


def test_tags_of_an_object_nothing_touched_are_not_read_again(
    bucket: tuple[Any, str], s3_server: str, ann: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, name = bucket
    client.put_object(Bucket=name, Key="kept.txt", Body=b"nothing personal")
    with ResidueScanner([S3Store(name, endpoint_url=s3_server, name="files")]) as scanner:
        asked = requests_of(monkeypatch, scanner, "get_object_tagging")
        scanner.scan([ann])
        client.put_object(Bucket=name, Key="new.txt", Body=b"also nothing")  # the bucket changed
        scanner.scan([ann])
        assert asked == ["kept.txt", "new.txt"]  # kept.txt's tags were not read twice
        client.put_object_tagging(
            Bucket=name, Key="kept.txt", Tagging={"TagSet": [{"Key": "who", "Value": ann.email}]}
        )
        assert {(h.location, h.field) for h in scanner.scan([ann])} == {("kept.txt", "email")}


@pytest.mark.parametrize(
    ("method", "host", "path", "one_object"),
    [
        ("PUT", "127.0.0.1:9", "/b/orders/1.json", True),
        ("DELETE", "127.0.0.1:9", "/b/a.txt", True),
        ("POST", "127.0.0.1:9", "/b", False),  # a batch delete names its keys in the body
        ("POST", "127.0.0.1:9", "/b/big.bin", False),  # a multipart upload
        ("PUT", "127.0.0.1:9", "/b", False),  # the bucket's own settings
        ("PUT", "b.localhost:9", "/a.txt", False),  # virtual-host style
        ("PUT", "127.0.0.1:9", "/b/caf\xc3\xa9 menu.txt", False),  # a key spelt with escapes
    ],
)
def test_a_change_counts_for_one_object_only_when_it_names_exactly_one(
    method: str, host: str, path: str, one_object: bool
) -> None:
    from pytest_stexcel_privacy.observe.served_changes import ServedChanges

    changes = ServedChanges("127.0.0.1:9")
    app = changes.counting(lambda environ, start_response: [b""])
    untouched = changes.object_witness("b", "other.txt")
    app({"REQUEST_METHOD": method, "HTTP_HOST": host, "PATH_INFO": path}, None)
    assert changes.total == 2  # counted as it started and as it ended
    assert (changes.object_witness("b", "other.txt") == untouched) is one_object
    app({"REQUEST_METHOD": "GET", "HTTP_HOST": host, "PATH_INFO": path}, None)
    assert changes.total == 2  # a read changes nothing


def test_a_witness_names_its_server() -> None:
    """Counts start at zero on every server: one started later on the same port (another
    pytester run's) must not prove a bucket the earlier one served unchanged."""
    from pytest_stexcel_privacy.observe.served_changes import ServedChanges

    earlier, later = ServedChanges("127.0.0.1:9"), ServedChanges("127.0.0.1:9")
    assert earlier.witness() != later.witness()
    assert earlier.object_witness("b", "a.txt") != later.object_witness("b", "a.txt")


def test_a_file_found_clean_counts_as_searched_again(tmp_path: Path, ann: Person) -> None:
    # The report's coverage must not depend on which checks ran before in the process
    # (a -n 0 and a -n 2 run write the same report).
    from pytest_stexcel_privacy.scan.matcher import NeedleMatcher

    (tmp_path / "log.txt").write_bytes(b"nothing personal\n" * 100)
    (tmp_path / "notes.json").write_text('{"note": "bmV2ZXIgbWluZCwgbm90aGluZyBoZXJl"}')
    counts = []
    for _ in range(2):
        matcher = NeedleMatcher(ann.needles)
        assert not list(FileScanner(FileStore(tmp_path, name="files")).scan(matcher, []))
        counts.append(matcher.searched())
    assert counts[0] == counts[1]
    assert counts[0][0] >= 2
