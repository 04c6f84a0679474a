"""Values encoded inside a cell, a Redis value or a file are decoded before matching:
signed sessions, base64, zlib/gzip/bz2/xz, msgpack, pickles, and a user's own format."""

from __future__ import annotations

import base64
import builtins
import bz2
import codecs
import gzip
import hashlib
import hmac
import json
import lzma
import pickle
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pytest_stexcel_privacy import FileStore, NotThisFormat, Person, SQLStore, ValueDecoder
from pytest_stexcel_privacy.errors import StoreUnreadable
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import Residue, ResidueScanner
from pytest_stexcel_privacy.scan import decoders as registry
from pytest_stexcel_privacy.scan.decoders import BUILTIN_VALUE_DECODERS, expand


@pytest.fixture
def ann() -> Person:
    return assemble(given="Ann", family="Lee")


def signed_session(data: dict[str, Any], compress: bool = True) -> str:
    """What Django's ``signing.dumps(data, compress=True)`` stores."""
    raw = json.dumps(data, separators=(",", ":")).encode()
    payload = zlib.compress(raw) if compress else raw
    value = ("." if compress else "") + base64.urlsafe_b64encode(payload).decode().rstrip("=")
    value += ":1tW3xk"
    signature = hmac.new(b"key", value.encode(), hashlib.sha256).digest()
    return value + ":" + base64.urlsafe_b64encode(signature).decode().rstrip("=")


def scan_cells(tmp_path: Path, people: list[Person], *cells: object, **store: Any) -> Residue:
    path = tmp_path / "erp.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, value)")
    db.executemany("INSERT INTO blobs (value) VALUES (?)", [(cell,) for cell in cells])
    db.commit()
    db.close()
    with ResidueScanner([SQLStore(f"sqlite:///{path}", name="db", **store)]) as scanner:
        return scanner.scan(people)


def found(residue: Residue) -> set[tuple[str, str, str]]:
    return {(hit.locator, hit.field, hit.needle.form) for hit in residue}


def test_a_signed_compressed_session_is_opened(tmp_path: Path, ann: Person) -> None:
    session = signed_session({"_auth_user_id": "7", "name": ann.full_name})
    assert ann.last_name.encode() not in session.encode()
    residue = scan_cells(tmp_path, [ann], session)
    assert ("id=1, in signed session", "last_name", "exact") in found(residue)
    hit = next(h for h in residue if h.field == "first_name")
    assert "[id=1, in signed session]: first_name as exact" in hit.describe()


@pytest.mark.parametrize(
    ("encode", "way"),
    [
        (lambda raw: signed_session({"v": raw.decode()}, compress=False), "signed session"),
        (lambda raw: base64.b64encode(json.dumps({"v": raw.decode()}).encode()), "base64"),
        (zlib.compress, "zlib"),
        (gzip.compress, "gzip"),
        (bz2.compress, "bzip2"),
        (lzma.compress, "xz"),
        (lambda raw: pickle.dumps({"name": raw.decode(), "n": 3}), "pickle"),
        (lambda raw: base64.b64encode(zlib.compress(raw)), "base64 > zlib"),
        (
            lambda raw: base64.b64encode(
                json.dumps({"s": base64.b64encode(raw).decode()}).encode()
            ),
            "base64 > json > base64",
        ),
    ],
)
def test_each_encoding_is_found_and_named(
    tmp_path: Path, ann: Person, encode: Any, way: str
) -> None:
    value = encode(f"about {ann.email} here".encode())
    assert ("id=1, in " + way, "email", "exact") in found(scan_cells(tmp_path, [ann], value))


def test_msgpack_is_opened(tmp_path: Path, ann: Person) -> None:
    msgpack = pytest.importorskip("msgpack")
    value = msgpack.packb({"user": {"mail": ann.email}, "z": zlib.compress(ann.phone.encode())})
    assert ("id=1, in msgpack > zlib", "phone", "exact") in found(
        scan_cells(tmp_path, [ann], value)
    )


def test_without_msgpack_strings_are_searched_and_compressed_parts_refused(
    tmp_path: Path, ann: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    msgpack = pytest.importorskip("msgpack")
    real_import = builtins.__import__

    def no_msgpack(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "msgpack":
            raise ImportError("no msgpack")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_msgpack)
    token = base64.b64encode(ann.email.encode()).decode()
    plain = msgpack.packb({"token": token, "n": 1})
    assert ("id=1, in msgpack > base64", "email", "exact") in found(
        scan_cells(tmp_path, [ann], plain)
    )
    compressed = msgpack.packb({"blob": zlib.compress(ann.email.encode())})
    (tmp_path / "x").mkdir()
    with pytest.raises(StoreUnreadable, match="pip install msgpack"):
        scan_cells(tmp_path / "x", [ann], compressed)


def test_a_pickle_is_read_never_unpickled(tmp_path: Path, ann: Person) -> None:
    class Boom:
        def __reduce__(self) -> tuple[Any, tuple[str]]:
            return (print, (f"unpickled {ann.email}",))

    value = pickle.dumps([Boom()])
    assert ("id=1, in pickle", "email", "exact") in found(scan_cells(tmp_path, [ann], value))


def test_ordinary_values_are_only_sniffed(ann: Person) -> None:
    ordinary = [
        ann.email.encode(),
        b"plain text: nothing encoded here",
        b"2026-01-01 10:00:00",
        json.dumps({"name": "x"}).encode(),
        b"Goldsmith Bcdfghjj at Acme Jewelers, Springfield",
        b"\x00\x01binary\xff" * 20,
    ]
    calls: list[bytes] = []
    spy = [
        ValueDecoder(d.name, d.sniff, lambda v, d=d: calls.append(v) or d.decode(v), d.errors)
        for d in BUILTIN_VALUE_DECODERS
    ]
    for value in ordinary:
        assert list(expand(value, spy)) == []
    assert calls == []


# Values that start like text, like each binary format's first bytes, or anything at all.
_TEXTLIKE = st.from_regex(rb"\A[A-Za-z0-9+/_.=:-]{12,40}", fullmatch=True)
_HEADED = st.tuples(
    st.sampled_from([b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"x\x9c", b"x^", b"\x80\x04", b"\x82"]),
    st.binary(min_size=registry.MIN_ENCODED_BYTES, max_size=40),
).map(b"".join)


# (a value shorter than MIN_ENCODED_BYTES goes to no decoder at all, by design)
@given(st.one_of(_TEXTLIKE, _HEADED, st.binary(min_size=registry.MIN_ENCODED_BYTES, max_size=60)))
@example(b"BZh91AY&SYabcdefgh")
@example(b"\x82" + bytes(11))
@example(b"eJwLycgsVgCi4tziUgAA")
def test_the_gate_leaves_out_only_decoders_that_would_not_sniff(value: bytes) -> None:
    """``_candidates`` skips a built-in only where its sniff says no: text past the gate
    goes to the text formats alone, so no value loses a decoder that would open it."""
    candidates = registry._candidates(value, BUILTIN_VALUE_DECODERS, 0)
    for decoder in BUILTIN_VALUE_DECODERS:
        if decoder not in candidates:
            assert not decoder.sniff(value), (decoder.name, value)


def _encoded_layers(payload: bytes) -> list[bytes]:
    """``payload`` as a cache might hold it: base64 of either alphabet (padding kept or
    stripped) around the payload, a zlib of it, JSON, or base64 again."""
    b64, url = base64.b64encode(payload), base64.urlsafe_b64encode(payload)
    return [
        b64,
        b64.rstrip(b"="),
        url.rstrip(b"="),
        base64.b64encode(zlib.compress(payload)),
        # a JSON document whose value is encoded again, whole quanta or not
        base64.urlsafe_b64encode(json.dumps({"v": b64.decode()}).encode()).rstrip(b"="),
        base64.b64encode(b64),
    ]


_PIECES = st.lists(
    st.one_of(
        _TEXTLIKE,
        _HEADED,
        st.binary(max_size=40),
        st.from_regex(rb"\A[A-Za-z0-9_-]{16,48}", fullmatch=True),  # urlsafe, no padding
        st.from_regex(rb"\A[A-Za-z0-9+/]{16,48}", fullmatch=True),  # standard, no padding
        st.from_regex(rb"\A[0-9a-f]{16,48}", fullmatch=True),  # a digest: not base64
        st.binary(max_size=30).flatmap(lambda b: st.sampled_from(_encoded_layers(b))),
    ),
    max_size=12,
).flatmap(lambda pieces: st.permutations(pieces + pieces[:2]))  # some seen twice


@given(_PIECES)
@example([b"tag-0a1b2c3d4e5f", b"sku-0a1b2c3d4e5f"])  # a cache's ids: decode, hold nothing
@example([b"B" * 16, b"xJ" + b"A" * 14, b"8nAAAAAAAAAAAAAA"])  # a binary format's head
@example([base64.b64encode(b'{"v":  "WW91ciBuYW1lOiBab8OrIE8nQnJpZW4="}')])  # JSON inside
def test_pieces_decoded_together_decode_as_each_alone(pieces: list[bytes]) -> None:
    """``expand_each`` answers what ``expand`` answers for each piece, layers, paths and
    order: the plain base64 it decodes together too (Redis scans)."""
    alone = [list(expand(piece, BUILTIN_VALUE_DECODERS)) for piece in pieces]
    assert list(registry.expand_each(pieces, BUILTIN_VALUE_DECODERS)) == alone
    with_own = (*BUILTIN_VALUE_DECODERS, ROT13)  # a store's own: each piece goes alone
    assert list(registry.expand_each(pieces, with_own)) == [
        list(expand(piece, with_own)) for piece in pieces
    ]


def test_pieces_decoded_together_fail_where_each_alone_fails() -> None:
    """A piece nested too deep raises at that piece, after the ones before it."""
    for size in range(24, 48):  # an outer layer of whole quanta: decoded with the rest
        deep = b"p" * size
        for _ in range(registry.MAX_VALUE_DEPTH + 1):
            deep = base64.b64encode(deep)
        if registry._only_base64(deep) and len(deep) % 4 == 0:
            break
    else:
        pytest.fail("no size gave an outer layer of whole quanta")
    fine = base64.urlsafe_b64encode(b"0123456789abcdef01234567")
    layers = registry.expand_each([fine, deep, fine], BUILTIN_VALUE_DECODERS)
    assert next(layers) == [("base64", b"0123456789abcdef01234567")]
    with pytest.raises(registry.ContainerUnreadable, match="nested more than"):
        next(layers)


def test_bounds_refuse_rather_than_skip(tmp_path: Path, ann: Person, monkeypatch: Any) -> None:
    monkeypatch.setattr(registry, "MAX_DECODED_BYTES", 1000)
    bomb = zlib.compress(b"\0" * 100_000)
    with pytest.raises(StoreUnreadable, match=r"blobs\.value \[id=1\]: decodes to more than"):
        scan_cells(tmp_path, [ann], bomb)
    nested = ann.email.encode()
    for _ in range(registry.MAX_VALUE_DEPTH + 1):
        nested = zlib.compress(nested)
    (tmp_path / "deep").mkdir()
    with pytest.raises(StoreUnreadable, match="nested more than"):
        scan_cells(tmp_path / "deep", [ann], nested)


def rot13(value: bytes) -> bytes:
    if not value.startswith(b"R13:"):
        raise NotThisFormat("no R13: prefix")
    return codecs.encode(value[4:].decode(), "rot13").encode()


ROT13 = ValueDecoder("rot13", sniff=lambda v: v[:4] == b"R13:", decode=rot13)


def test_a_store_takes_its_own_decoders(tmp_path: Path, ann: Person) -> None:
    value = b"R13:" + codecs.encode(ann.email, "rot13").encode()
    assert not found(scan_cells(tmp_path, [ann], value))
    (tmp_path / "own").mkdir()
    residue = scan_cells(tmp_path / "own", [ann], value, decoders=[ROT13])
    assert ("id=1, in rot13", "email", "exact") in found(residue)


def test_installed_decoders_come_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    class Entry:
        name, value = "rot13", "tests:ROT13"

        def __init__(self, loaded: object) -> None:
            self.loaded = loaded

        def load(self) -> object:
            return self.loaded

    def entry_points(group: str, loaded: object) -> list[Entry]:
        assert group == registry.ENTRY_POINT_GROUP
        return [Entry(loaded)]

    monkeypatch.setattr(
        registry.importlib.metadata, "entry_points", lambda group: entry_points(group, ROT13)
    )
    registry.installed_value_decoders.cache_clear()
    try:
        assert registry.value_decoders()[-1] is ROT13
        monkeypatch.setattr(
            registry.importlib.metadata, "entry_points", lambda group: entry_points(group, 42)
        )
        registry.installed_value_decoders.cache_clear()
        with pytest.raises(StoreUnreadable, match=r"'rot13' .* is not a ValueDecoder"):
            ResidueScanner([FileStore(Path(), name="files")]).open()
    finally:
        registry.installed_value_decoders.cache_clear()


def test_a_file_holding_a_signed_session_is_opened(tmp_path: Path, ann: Person) -> None:
    (tmp_path / "sessions").mkdir()
    (tmp_path / "sessions" / "sessionid1").write_text(signed_session({"n": ann.full_name}))
    with ResidueScanner([FileStore(tmp_path, name="files")]) as scanner:
        residue = scanner.scan([ann])
    assert ("in signed session", "first_name", "exact") in found(residue)


def test_redis_values_are_decoded_part_by_part(ann: Person) -> None:
    from pytest_stexcel_privacy.scan.decoders import expand
    from pytest_stexcel_privacy.scan.matcher import NeedleMatcher
    from pytest_stexcel_privacy.scan.redis import _Split

    session = signed_session({"n": ann.full_name}).encode()
    matcher = NeedleMatcher(ann.needles)
    decoders = registry.value_decoders()
    for kind, value in (  # as RESP2 replies each type
        ("string", session),
        ("hash", [b"a=b", session]),
        ("list", [b"x", session]),
        ("stream", [[b"1-0", [b"a", b"1 2", b"data", session]]]),
        ("zset", [session, b"1"]),
    ):
        split = _Split(["string", kind], [b"another key's value", value])
        found = {
            (split.owner(part), way, n.field)
            for piece, part in zip(split.pieces, split.piece_parts, strict=True)
            for way, layer in expand(piece, decoders)
            for _, needles in matcher.search(layer)
            for n in needles
        }
        assert found >= {(1, "signed session", "first_name")}, kind


def test_random_tokens_that_pass_a_sniff_are_not_an_error() -> None:
    """Random URL-safe tokens (click tracking, sessions) sniff as base64 and decode to
    random bytes, which some parsers reject with any exception (msgpack builds a map keyed
    by a list: TypeError); that is "not this format", never an unreadable store."""
    from pytest_stexcel_privacy.scan.decoders import expand, value_decoders

    decoders = value_decoders()
    for token in (b"g1xKkUSi1YethoSs", b"hEljgxAAdhLk9qHc"):  # each once broke a scan
        assert isinstance(list(expand(token, decoders)), list)


def test_a_users_decoder_failing_unexpectedly_is_unreadable_named() -> None:
    from pytest_stexcel_privacy import ValueDecoder
    from pytest_stexcel_privacy.scan.decoders import ContainerUnreadable, expand

    def broken(value: bytes) -> bytes:
        raise KeyError("table")

    odd = ValueDecoder("odd", sniff=lambda v: v.startswith(b"ODD:"), decode=broken)
    with pytest.raises(ContainerUnreadable, match="the 'odd' decoder failed"):
        list(expand(b"ODD:" + b"x" * 40, (odd,)))
