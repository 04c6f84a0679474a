"""Redis and S3 scanning against real servers: Redis on loopback, S3 through moto's server."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from availability import require
from pytest_stexcel_privacy import Person, RedisStore, S3Store
from pytest_stexcel_privacy.errors import StoreUnreadable
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import ResidueScanner
from servers import REDIS_URL, REDIS_URLS


@pytest.fixture
def ann() -> Person:
    return assemble(given="Ann", family="Lee")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The first empty database of this worker's share, emptied again afterwards.

    A database that already holds keys is someone's data (a benchmark stopped
    half-way, another program): it is passed over, never emptied.
    """
    import redis

    held: list[str] = []
    for url in REDIS_URLS:
        client = redis.Redis.from_url(url)
        try:
            empty = client.dbsize() == 0
        except redis.ResponseError:  # the server has fewer databases
            client.close()
            continue
        except redis.RedisError as exc:
            client.close()
            require(False, f"Redis at {url}", f"start redis-server ({exc})")
        if empty:
            yield url
            client.flushdb()
            client.close()
            return
        held.append(url)
        client.close()
    pytest.fail(
        f"every Redis database these tests may use already holds keys ({', '.join(held)}); "
        "they empty the one they use afterwards, so point PRIVACY_TEST_REDIS at an unused one",
        pytrace=False,
    )


@pytest.fixture
def redis_db(redis_url: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def redis_hits(url: str, ann: Person) -> set[tuple[str, str, str]]:
    with ResidueScanner([RedisStore(url, name="cache", region="us-east-1")]) as scanner:
        return {(h.location, h.locator, h.field) for h in scanner.scan([ann])}


def test_every_redis_type_and_key_names(redis_db: object, redis_url: str, ann: Person) -> None:
    r = redis_db
    r.set("session:1", f'{{"email": "{ann.email}"}}')  # type: ignore[attr-defined]
    r.hset("customer:1", mapping={"name": ann.full_name, "n": "1"})  # type: ignore[attr-defined]
    r.rpush("recent", "x", ann.phone)  # type: ignore[attr-defined]
    r.sadd("tags", ann.employer)  # type: ignore[attr-defined]
    r.zadd("scores", {ann.job_title: 3.5})  # type: ignore[attr-defined]
    r.xadd("events", {"who": ann.street})  # type: ignore[attr-defined]
    r.set(f"by-email:{ann.email}", "1", ex=3 * 86400)  # type: ignore[attr-defined]
    found = redis_hits(redis_url, ann)
    fields = {(loc.split(":")[0], field) for loc, _, field in found}
    assert fields >= {
        ("session", "email"),
        ("customer", "first_name"),
        ("recent", "phone"),
        ("tags", "employer"),
        ("scores", "job_title"),
        ("events", "street"),
    }
    (keyed,) = [f for f in found if f[1].startswith("key name")]
    assert "expires in 3.0 days" in keyed[1]
    assert ann.email not in keyed[0]  # the key itself is personal data: masked


def test_many_keys_by_scan(redis_db: object, redis_url: str, ann: Person) -> None:
    pipe = redis_db.pipeline()  # type: ignore[attr-defined]
    for i in range(5000):
        pipe.set(f"k:{i}", f"value {i}")
    pipe.set("k:needle", ann.email)
    pipe.execute()
    assert {(loc, field) for loc, _, field in redis_hits(redis_url, ann)} == {("k:needle", "email")}


def test_the_gil_changes_hands_quickly_only_while_a_scan_reads(
    redis_db: object, redis_url: str, ann: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader thread gets the GIL back within 1 ms of a reply while the scan runs
    (scan/handoffs.py), and the process's own interval is back once it ends."""
    import sys

    from pytest_stexcel_privacy.scan.handoffs import SCAN_SWITCH_INTERVAL
    from pytest_stexcel_privacy.scan.redis_wire import Wire

    redis_db.set("k:needle", ann.email)  # type: ignore[attr-defined]
    during: list[float] = []
    replies = Wire.replies

    def watched(self: Wire, commands: bytes, count: int) -> list[Any]:
        during.append(sys.getswitchinterval())
        return replies(self, commands, count)

    monkeypatch.setattr(Wire, "replies", watched)
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        assert {(loc, field) for loc, _, field in redis_hits(redis_url, ann)} == {
            ("k:needle", "email")
        }
        assert during
        assert set(during) == {SCAN_SWITCH_INTERVAL}
        assert sys.getswitchinterval() == 0.005
    finally:
        sys.setswitchinterval(before)


def test_unreachable_redis_is_unreadable() -> None:
    with pytest.raises(StoreUnreadable, match="cannot connect"):
        ResidueScanner([RedisStore("redis://127.0.0.1:1/0", name="cache")]).open()


@pytest.fixture
def bucket(s3_server: str) -> tuple[object, str]:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    name = f"scan-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return client, name


def test_s3_keys_bodies_metadata_tags_and_old_versions(
    bucket: tuple[object, str], s3_server: str, ann: Person
) -> None:
    client, name = bucket
    c: object = client
    c.put_object(Bucket=name, Key="briefs/1.txt", Body=f"for {ann.email}".encode())  # type: ignore[attr-defined]
    c.delete_object(Bucket=name, Key="briefs/1.txt")  # type: ignore[attr-defined] - a marker only
    c.put_object(Bucket=name, Key=f"by-name/{ann.last_name}.pdf", Body=b"%PDF")  # type: ignore[attr-defined]
    c.put_object(  # type: ignore[attr-defined]
        Bucket=name,
        Key="meta.bin",
        Body=b"x",
        Metadata={"owner": ann.phone},
        Tagging=f"job={ann.job_title.replace(' ', '+')}",
    )
    store = S3Store(name, endpoint_url=s3_server, name="files", region="us-east-1")
    with ResidueScanner([store]) as scanner:
        found = {(h.location, h.locator.split(" ", 2)[-1], h.field) for h in scanner.scan([ann])}
    assert ("briefs/1.txt", "body", "email") in found  # deleted but still a version
    assert any(loc.startswith("by-name/") and part == "key" for loc, part, _ in found)
    assert ("meta.bin", "metadata", "phone") in found
    assert ("meta.bin", "tags", "job_title") in found


def test_an_object_written_before_versioning_is_read_by_its_null_version(
    s3_server: str, ann: Person
) -> None:
    """Its "null" version stays when the key is overwritten under versioning; asked for
    without a version id, S3 would answer the latest body instead, and miss it."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    name = f"scan-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="brief.txt", Body=f"for {ann.email}".encode())
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket=name, Key="brief.txt", Body=b"redacted")
    store = S3Store(name, endpoint_url=s3_server, name="files", region="us-east-1")
    with ResidueScanner([store]) as scanner:
        found = {(h.location, h.locator, h.field) for h in scanner.scan([ann])}
    assert found == {("brief.txt", "version null body", "email")}


def test_missing_bucket_is_unreadable(s3_server: str) -> None:
    store = S3Store("no-such-bucket-here", endpoint_url=s3_server, name="files")
    with pytest.raises(StoreUnreadable, match="no-such-bucket-here"):
        ResidueScanner([store]).open()


def test_a_later_scan_reads_kept_versions_and_sees_new_tags(
    bucket: tuple[object, str], s3_server: str, ann: Person
) -> None:
    # A version's body is read once per scanner; its tags can change, so they are read again.
    client, name = bucket
    c: object = client
    bob = assemble(given="Bob", family="Ray")
    c.put_object(Bucket=name, Key="a.txt", Body=f"{ann.email} {bob.email}".encode())  # type: ignore[attr-defined]
    store = S3Store(name, endpoint_url=s3_server, name="files", region="us-east-1")

    def parts(hits: object) -> set[tuple[str, str, str]]:
        return {(h.location, h.locator.split(" ", 2)[-1], h.field) for h in hits}  # type: ignore[attr-defined]

    with ResidueScanner([store]) as scanner:
        first = parts(scanner.scan([ann]))
        tags = {"TagSet": [{"Key": "job", "Value": bob.job_title}]}
        c.put_object_tagging(Bucket=name, Key="a.txt", Tagging=tags)  # type: ignore[attr-defined]
        second = parts(scanner.scan([bob]))
    assert first == {("a.txt", "body", "email")}
    assert second == {("a.txt", "body", "email"), ("a.txt", "tags", "job_title")}


def fill_every_type(r: Any, ann: Person) -> None:
    r.set("session:1", f'{{"email": "{ann.email}"}}', px=86_400_000)
    r.hset("customer:1", mapping={"name": ann.full_name, "n": "1"})
    r.rpush("recent", "x", ann.phone)
    r.sadd("tags", ann.employer, "other")
    r.zadd("scores", {ann.job_title: 3.5, "plain": 1})
    r.xadd("events", {"who": ann.street, "n": "2"})
    r.set(f"by-email:{ann.email}", "1")
    # encoded inside a hash field whose name holds "=", and a stream value with spaces
    r.hset("prefs", mapping={"a=b": base64.b64encode(ann.email.encode())})
    r.xadd("log", {"blob": zlib_with_a_space(f"called {ann.phone} today")})
    # a stream entry may repeat a field: redis-py's xrange() would keep only the last
    r.execute_command("XADD", "visits", "*", "who", ann.email, "who", "nobody")


def zlib_with_a_space(text: str) -> bytes:
    """``text`` zlib-compressed, padded until the compressed bytes hold a space."""
    import zlib

    while b" " not in (packed := zlib.compress(text.encode())):
        text += "."
    return packed


@pytest.fixture
def wire_replies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many replies each round trip over ``redis_wire`` read."""
    from pytest_stexcel_privacy.scan.redis_wire import Wire

    counts: list[int] = []
    replies = Wire.replies

    def counted(self: Wire, commands: bytes, count: int) -> list[Any]:
        counts.append(count)
        return replies(self, commands, count)

    monkeypatch.setattr(Wire, "replies", counted)
    return counts


def scan_by(store: RedisStore, ann: Person, wire: bool) -> list[tuple[str, ...]]:
    """Each hit as (location, locator, field, needle form, its evidence line)."""
    with ResidueScanner([store]) as scanner:
        scanner._scanners[0].use_wire = wire  # type: ignore[attr-defined]
        return sorted(
            (h.location, h.locator, h.field, h.needle.form, h.describe())
            for h in scanner.scan([ann])
        )


def test_the_wire_reads_what_the_pipeline_reads(
    redis_db: Any, redis_url: str, ann: Person, wire_replies: list[int]
) -> None:
    """Each batch is read in a few round trips of packed commands; the evidence is
    redis-py's pipeline's, to the letter."""
    fill_every_type(redis_db, ann)
    store = RedisStore(redis_url, name="cache")
    by_wire = scan_by(store, ann, wire=True)
    # SCAN (one batch: the cursor is back at 0); the 10 keys' GETs; TYPE of the 8 keys
    # GET refused as not strings; their values
    assert wire_replies == [1, 10, 8, 8]
    del wire_replies[:]
    assert by_wire == scan_by(store, ann, wire=False)
    assert not wire_replies
    found = {hit[:4] for hit in by_wire}
    assert ("prefs", "hash field a=b, in base64", "email", "exact") in found
    assert ("session:1", "string value, expires in 24.0 hours", "email", "exact") in found
    (in_zlib,) = [hit for hit in found if hit[0] == "log"]
    assert in_zlib[1].startswith("stream entry ")
    assert in_zlib[1:] == (f"{in_zlib[1].split(',')[0]}, in zlib", "phone", "exact")
    assert ("visits", "email", "exact") in {(h[0], h[2], h[3]) for h in found}
    assert len(found) == 12


@pytest.mark.parametrize(
    ("query", "by_wire"),
    [
        ("protocol=3", False),
        ("protocol=3&decode_responses=True", False),
        ("decode_responses=True", True),
    ],
)
def test_a_url_asking_for_resp3_or_text_reads_the_same(
    redis_db: Any, redis_url: str, ann: Person, wire_replies: list[int], query: str, by_wire: bool
) -> None:
    """The wire reads RESP2 only, so a RESP3 URL is read by the pipeline; values are read
    as bytes whatever the URL asks."""
    fill_every_type(redis_db, ann)
    by_url = scan_by(RedisStore(with_query(redis_url, query), name="cache"), ann, wire=True)
    assert bool(wire_replies) == by_wire
    assert by_url == scan_by(RedisStore(redis_url, name="cache"), ann, wire=True)


def with_query(url: str, query: str) -> str:
    """``url`` asking ``query`` too, after any query it has."""
    return f"{url}{'&' if '?' in url else '?'}{query}"


@contextmanager
def acl_user(redis_db: Any, redis_url: str, denied: str) -> Iterator[str]:
    """The URL of a user of ``redis_url`` who may run every command but ``denied``."""
    user = f"scanner-{uuid.uuid4().hex[:8]}"
    redis_db.execute_command("ACL", "SETUSER", user, "on", ">pw", "~*", "+@all", denied)
    try:
        host, _, database = redis_url.removeprefix("redis://").partition("/")
        yield f"redis://{user}:pw@{host}/{database}"
    finally:
        redis_db.execute_command("ACL", "DELUSER", user)


@pytest.mark.parametrize("wire", [True, False])
@pytest.mark.parametrize(
    ("denied", "refused"),
    [
        ("-hgetall", r"HGETALL of key '(customer:1|prefs)' was refused \(.*no permissions"),
        ("-scan", r"SCAN was refused: NOPERM"),
        # a string's name holding an e-mail address is masked: by\*+om
        ("-get", r"GET of key '(session:1|by\*+om)' was refused \(.*no permissions"),
    ],
)
def test_a_command_the_server_refuses_stops_the_scan(
    redis_db: Any, redis_url: str, ann: Person, wire: bool, denied: str, refused: str
) -> None:
    fill_every_type(redis_db, ann)
    with acl_user(redis_db, redis_url, denied) as url:
        # the pipeline passes SCAN's refusal on as redis-py raised it
        message = refused if wire or denied != "-scan" else "scan stopped: .*'scan'"
        with pytest.raises(StoreUnreadable, match=message):
            scan_by(RedisStore(url, name="cache"), ann, wire)


@pytest.mark.parametrize("wire", [True, False])
@pytest.mark.parametrize("times", [1, 2])
def test_a_key_retyped_while_read_is_read_again_once(
    redis_db: Any,
    redis_url: str,
    ann: Person,
    monkeypatch: pytest.MonkeyPatch,
    wire: bool,
    times: int,
) -> None:
    """An application writing while the scan reads may change a key's type between its
    TYPE and its read: the key is read again; changed again, the scan stops."""
    from pytest_stexcel_privacy.scan.redis import RedisScanner

    redis_db.hset("cart", mapping={"who": ann.email})
    told = RedisScanner._refuse_unknown
    retyped: list[str] = []

    def retype_after_type(self: RedisScanner, key: bytes, kind: str) -> None:
        told(self, key, kind)
        if key == b"cart" and len(retyped) < times:  # a hash, then a list, then a hash
            retyped.append(kind)
            redis_db.delete("cart")
            if kind == "hash":
                redis_db.rpush("cart", ann.email)
            else:
                redis_db.hset("cart", mapping={"who": ann.email})

    monkeypatch.setattr(RedisScanner, "_refuse_unknown", retype_after_type)
    store = RedisStore(redis_url, name="cache")
    if times == 1:
        hits = scan_by(store, ann, wire)
        assert [(h[0], h[1], h[2]) for h in hits] == [("cart", "list item 0", "email")]
    else:
        with pytest.raises(StoreUnreadable, match=r"(LRANGE|HGETALL) of key 'cart'.*WRONGTYPE"):
            scan_by(store, ann, wire)
    assert len(retyped) == times


@pytest.mark.parametrize("wire", [True, False])
@pytest.mark.parametrize("denied", ["-get", "-pttl"])
def test_a_refusal_names_a_key_holding_a_needle_masked(
    redis_db: Any, redis_url: str, ann: Person, wire: bool, denied: str
) -> None:
    """redis-py's pipeline names the refused command's key in its error: masked there
    too, as evidence masks it."""
    redis_db.set(f"by-email:{ann.email}", ann.phone)  # a needle: its expiry is asked
    refused = rf"{denied[1:].upper()}.*by\*+om"
    with (
        acl_user(redis_db, redis_url, denied) as url,
        pytest.raises(StoreUnreadable, match=refused) as caught,
    ):
        scan_by(RedisStore(url, name="cache"), ann, wire)
    assert ann.email not in str(caught.value)


@pytest.mark.parametrize("wire", [True, False])
def test_scans_give_their_connections_back(
    redis_db: Any, redis_url: str, ann: Person, wire: bool
) -> None:
    """A URL's ``max_connections`` holds however many scans a lifecycle makes."""
    redis_db.set("note", ann.phone)
    url = with_query(redis_url, "max_connections=2")
    with ResidueScanner([RedisStore(url, name="cache")]) as scanner:
        scanner._scanners[0].use_wire = wire  # type: ignore[attr-defined]
        for _ in range(4):
            assert {hit.location for hit in scanner.scan([ann])} == {"note"}


@pytest.mark.parametrize("wire", [True, False])
def test_a_key_of_a_type_the_scanner_cannot_read_stops_the_scan(
    redis_db: Any, redis_url: str, ann: Person, monkeypatch: pytest.MonkeyPatch, wire: bool
) -> None:
    from pytest_stexcel_privacy.scan import redis as redis_scan

    redis_db.sadd("tags", ann.employer)
    # a type this scanner does not know (a module's), here a set once sets are unknown
    monkeypatch.delitem(redis_scan.COMMANDS, "set")
    with ResidueScanner([RedisStore(redis_url, name="cache")]) as scanner:
        scanner._scanners[0].use_wire = wire  # type: ignore[attr-defined]
        with pytest.raises(StoreUnreadable, match="'tags' has type 'set'"):
            scanner.scan([ann])


def test_a_value_too_deeply_encoded_stops_the_scan_naming_its_part(
    redis_db: Any, redis_url: str, ann: Person
) -> None:
    nested = b"a value that is not a needle"
    for _ in range(8):
        nested = base64.b64encode(nested)
    redis_db.hset("cart", mapping={"n": "1", "blob": nested})
    with pytest.raises(StoreUnreadable, match="key 'cart' hash field blob: encodings nested"):
        redis_hits(redis_url, ann)


def test_a_key_gone_since_scan_listed_it_is_named_by_its_key_alone(ann: Person) -> None:
    from pytest_stexcel_privacy.scan.matcher import NeedleMatcher
    from pytest_stexcel_privacy.scan.redis import RedisScanner

    scanner = RedisScanner(RedisStore(REDIS_URL, name="cache"))
    keys = [f"by-email:{ann.email}".encode(), b"note"]
    # as the wire reads them: GET answers nil for the key gone
    fetched = (["none", "string"], [None, f"call {ann.phone}".encode()])
    hits = list(scanner._batch(NeedleMatcher(ann.needles), keys, fetched, ttls_unset))
    assert {(h.locator, h.field) for h in hits if h.needle.form == "exact"} == {
        ("key name", "email"),
        ("string value", "phone"),
    }


def ttls_unset(keys: list[bytes]) -> list[int]:
    return [-1] * len(keys)


def test_a_scan_stopped_by_its_searching_thread_leaves_no_reader_behind(
    redis_db: Any, redis_url: str, ann: Person
) -> None:
    """The reader, batches ahead, is ended and joined before the error leaves the scan,
    and the GIL's switch interval is the process's again."""
    import sys
    import threading

    nested = b"a value that is not a needle"
    for _ in range(8):
        nested = base64.b64encode(nested)
    pipe = redis_db.pipeline()
    for i in range(20_000):  # batches enough that the reader is still reading ahead
        pipe.set(f"k:{i:05}", f"value {i}")
    pipe.hset("cart", mapping={"n": "1", "blob": nested})
    pipe.execute()
    before = sys.getswitchinterval()
    with pytest.raises(StoreUnreadable, match="encodings nested"):
        redis_hits(redis_url, ann)
    assert [t.name for t in threading.enumerate() if t.name.startswith("redis-scan ")] == []
    assert sys.getswitchinterval() == before
