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
    from pytest_stexcel_privacy.scan.redis import _pieces

    session = signed_session({"n": ann.full_name}).encode()
    matcher = NeedleMatcher(ann.needles)
    decoders = registry.value_decoders()
    for kind, data in (
        ("string", session),
        ("hash", b"session=" + session),
        ("stream", b"a=1 data=" + session),
        ("zset", session + b" 1.0"),
    ):
        found = {
            (way, n.field)
            for piece in _pieces(kind, data)
            for way, layer in expand(piece, decoders)
            for _, needles in matcher.search(layer)
            for n in needles
        }
        assert found >= {("signed session", "first_name")}, kind


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
