"""The file residue scanner: trees, gzip, chunk boundaries, line numbers, failures."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pytest_stexcel_privacy import FileStore, Person
from pytest_stexcel_privacy.errors import StoreUnreadable
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import Residue, ResidueScanner
from pytest_stexcel_privacy.scan.decoders import DECODERS, Decoder, register_decoder
from pytest_stexcel_privacy.scan.files import FileScanner
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher
from pytest_stexcel_privacy.scan.residue import Hit


@pytest.fixture
def ann() -> Person:
    return assemble(given="Ann", family="Lee")


@pytest.fixture(params=["threads", "scan-thread"])
def either_way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files searched by a pool of threads, or in the scan's own thread (small ones)."""
    threaded_bytes = 0 if request.param == "threads" else 1 << 40
    monkeypatch.setattr("pytest_stexcel_privacy.scan.files.THREADED_BYTES", threaded_bytes)


def scan(root: Path, *people: Person) -> Residue:
    with ResidueScanner([FileStore(root, name="files")]) as scanner:
        return scanner.scan(people)


def places(residue: Residue) -> set[tuple[str, str, str]]:
    return {(hit.location, hit.locator, hit.field) for hit in residue}


def test_nested_files_gzip_and_line_numbers(tmp_path: Path, ann: Person) -> None:
    (tmp_path / "logs" / "old").mkdir(parents=True)
    (tmp_path / "logs" / "app.log").write_text(f"start\nsignup {ann.email}\nend\n")
    (tmp_path / "logs" / "old" / "app.log.1.gz").write_bytes(
        gzip.compress(f"a\nb\nc\ncall {ann.phone}\n".encode())
    )
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "c.csv").write_text(f'"{ann.last_name}","x"\n')
    assert places(scan(tmp_path, ann)) == {
        ("logs/app.log", "line 2", "email"),
        ("logs/old/app.log.1.gz", "gzip line 4", "phone"),
        ("exports/c.csv", "line 1", "last_name"),
    }


def test_needle_across_chunk_boundaries_is_found_once(tmp_path: Path, ann: Person) -> None:
    matcher = NeedleMatcher(ann.needles)
    for offset in range(0, 40):
        data = b"x\n" * 50 + b"y" * offset + ann.email.encode() + b"\nz" * 20
        path = tmp_path / "f.log"
        path.write_bytes(data)
        scanner = FileScanner(FileStore(tmp_path, name="files"), chunk_bytes=64)
        hits = [h for h in scanner.scan(matcher, []) if h.needle.form == "exact"]
        assert [(h.locator, h.field) for h in hits] == [("line 51", "email")], offset


def test_binary_and_invalid_utf8(tmp_path: Path, ann: Person) -> None:
    (tmp_path / "upload.bin").write_bytes(b"\x00\xff\xfe" + ann.street.encode("utf-8") + b"\x80")
    assert places(scan(tmp_path, ann)) == {("upload.bin", "line 1", "street")}


def test_missing_root_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnreadable, match="does not exist"):
        ResidueScanner([FileStore(tmp_path / "nope", name="files")]).open()


@pytest.mark.usefixtures("either_way")
def test_corrupt_gzip_is_an_error_not_a_pass(tmp_path: Path, ann: Person) -> None:
    (tmp_path / "bad.gz").write_bytes(gzip.compress(ann.email.encode() * 100)[:40])
    with pytest.raises(StoreUnreadable, match=r"bad\.gz"):
        scan(tmp_path, ann)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file regardless of mode")
@pytest.mark.usefixtures("either_way")
def test_unreadable_file_is_an_error(tmp_path: Path, ann: Person) -> None:
    secret = tmp_path / "secret.log"
    secret.write_text(ann.email)
    secret.chmod(0)
    with pytest.raises(StoreUnreadable, match=r"secret\.log"):
        scan(tmp_path, ann)


def test_file_vanishing_mid_scan_is_an_error(tmp_path: Path, ann: Person) -> None:
    for name in ("a.log", "b.log"):
        (tmp_path / name).write_text(ann.email)

    class Racing(FileScanner):
        def files(self) -> Iterator[Path]:
            listed = list(super().files())
            (tmp_path / "b.log").unlink()  # another process removes it after the listing
            return iter(listed)

    hits = Racing(FileStore(tmp_path, name="files")).scan(NeedleMatcher(ann.needles), [])
    with pytest.raises(StoreUnreadable, match=r"b\.log"):
        list(hits)


@pytest.mark.parametrize(
    ("suffix", "compress", "container"),
    [("bz2", bz2.compress, "bzip2"), ("xz", lzma.compress, "xz")],
)
def test_bzip2_and_xz_are_opened_before_matching(
    tmp_path: Path, ann: Person, suffix: str, compress: Callable[[bytes], bytes], container: str
) -> None:
    (tmp_path / f"export.csv.{suffix}").write_bytes(compress(f"id,email\n7,{ann.email}\n".encode()))
    assert ("files", f"export.csv.{suffix}", f"{container} line 2") in {
        (h.store, h.location, h.locator) for h in scan(tmp_path, ann)
    }


@pytest.mark.parametrize(("suffix", "compress"), [("bz2", bz2.compress), ("xz", lzma.compress)])
def test_corrupt_bzip2_or_xz_is_an_error_not_a_pass(
    tmp_path: Path, ann: Person, suffix: str, compress: Callable[[bytes], bytes]
) -> None:
    (tmp_path / f"bad.{suffix}").write_bytes(compress(ann.email.encode() * 100)[:30])
    with pytest.raises(StoreUnreadable, match="cannot be opened"):
        scan(tmp_path, ann)


def test_a_decoder_is_registered_once_and_needs_magic_bytes() -> None:
    gzip_decoder = DECODERS["gzip"]
    with pytest.raises(ValueError, match="already registered"):
        register_decoder(gzip_decoder)
    with pytest.raises(ValueError, match="first bytes"):
        register_decoder(Decoder("nothing", b"", gzip.open, (OSError,)))


def test_symlinked_directories_and_files_are_followed_once(tmp_path: Path, ann: Person) -> None:
    outside = tmp_path / "outside"
    (outside / "logs").mkdir(parents=True)
    (outside / "logs" / "app.log").write_text(f"signup {ann.email}\n")
    (outside / "note.txt").write_text(f"x\ncall {ann.phone}\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked").symlink_to(outside / "logs", target_is_directory=True)
    (root / "note.txt").symlink_to(outside / "note.txt")
    (root / "loop").symlink_to(root, target_is_directory=True)  # a loop ends
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    assert places(scan(root, ann)) == {
        (f"linked/app.log -> {outside / 'logs' / 'app.log'}", "line 1", "email"),
        (f"note.txt -> {outside / 'note.txt'}", "line 2", "phone"),
    }


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_members_nested_gzip_and_utf16_are_searched(tmp_path: Path, ann: Person) -> None:
    (tmp_path / "export.zip").write_bytes(
        zip_bytes(
            {
                "customers.csv": f"id,email\n1,x\n2,{ann.email}\n".encode(),
                "old/phones.txt.gz": gzip.compress(f"a\n{ann.phone}\n".encode()),
            }
        )
    )
    (tmp_path / "twice.gz").write_bytes(gzip.compress(gzip.compress(f"{ann.email}\n".encode())))
    (tmp_path / "wide.txt").write_bytes(f"a\nb\n{ann.last_name}\n".encode("utf-16"))
    (tmp_path / "wider.txt").write_bytes(f"{ann.phone}\n".encode("utf-32"))
    assert places(scan(tmp_path, ann)) >= {
        ("export.zip!customers.csv", "line 3", "email"),
        ("export.zip!old/phones.txt.gz", "gzip line 2", "phone"),
        ("twice.gz", "gzip gzip line 1", "email"),
        ("wide.txt", "utf-16 line 3", "last_name"),
        ("wider.txt", "utf-32 line 1", "phone"),
    }


def test_encrypted_zip_member_is_an_error(tmp_path: Path, ann: Person) -> None:
    data = bytearray(zip_bytes({"secret.csv": ann.email.encode()}))
    data[6] |= 0x1  # the local header's "encrypted" flag
    central = data.rindex(b"PK\x01\x02")
    data[central + 8] |= 0x1  # and the central directory's
    (tmp_path / "secret.zip").write_bytes(bytes(data))
    with pytest.raises(StoreUnreadable, match="encrypted"):
        scan(tmp_path, ann)


@pytest.mark.usefixtures("either_way")
def test_a_format_that_cannot_be_read_is_an_error(tmp_path: Path, ann: Person) -> None:
    (tmp_path / "backup.7z").write_bytes(b"7z\xbc\xaf\x27\x1c" + b"\x00" * 40)
    with pytest.raises(StoreUnreadable, match="cannot read this format"):
        scan(tmp_path, ann)


def test_upper_case_needle_after_decoded_text_longer_than_each_chunk(
    tmp_path: Path, ann: Person
) -> None:
    # UTF-16 to UTF-8 makes each chunk of CJK text half as long again as the chunk read.
    text = "漢字\n" * 40 + f"mail {ann.email.upper()}\n"
    (tmp_path / "cjk.txt").write_bytes(text.encode("utf-16"))
    scanner = FileScanner(FileStore(tmp_path, name="files"), chunk_bytes=64)
    hits = [h for h in scanner.scan(NeedleMatcher(ann.needles), []) if h.needle.form == "exact"]
    assert [(h.locator, h.field) for h in hits] == [("utf-16 line 41", "email")]


def test_bytes_only_the_fold_makes_alike_are_no_match(tmp_path: Path, ann: Person) -> None:
    # chunks are searched folded (0x20 set in every byte): "@" reads as "`" there
    (tmp_path / "a.log").write_text(f"x {ann.email.replace('@', '`')}\ny {ann.email.upper()}\n")
    hits = FileScanner(FileStore(tmp_path, name="files")).scan(NeedleMatcher(ann.needles), [])
    assert [(h.locator, h.field) for h in hits if h.needle.form == "exact"] == [("line 2", "email")]


@pytest.mark.parametrize("threaded_bytes", [0, 512 << 10], ids=["threads", "scan-thread"])
def test_small_trees_are_searched_in_the_scan_thread_and_alike(
    tmp_path: Path, ann: Person, monkeypatch: pytest.MonkeyPatch, threaded_bytes: int
) -> None:
    """Below THREADED_BYTES the files are searched in the scan's own thread (a lifecycle
    scans after every step); the hits, their order and the files scanned are the same."""
    for number in range(6):
        (tmp_path / f"{number}.log").write_text("nothing\n" * number + f"mail {ann.email}\n")
    (tmp_path / "6.log.gz").write_bytes(gzip.compress(f"{ann.phone}\n".encode()))
    monkeypatch.setattr("pytest_stexcel_privacy.scan.files.THREADED_BYTES", threaded_bytes)
    threads: set[str] = set()

    class Watched(FileScanner):
        def _scan_file(self, path: Path, location: str, matcher: NeedleMatcher) -> list[Hit]:
            threads.add(threading.current_thread().name)
            return super()._scan_file(path, location, matcher)

    scanned: list[str] = []
    hits = list(
        Watched(FileStore(tmp_path, name="files")).scan(NeedleMatcher(ann.needles), scanned)
    )
    exact = [(h.location, h.locator, h.field) for h in hits if h.needle.form == "exact"]
    assert exact == [
        *((f"{n}.log", f"line {n + 1}", "email") for n in range(6)),
        ("6.log.gz", "gzip line 1", "phone"),
    ]
    assert scanned == [f"files: {n}.log" for n in range(6)] + ["files: 6.log.gz"]
    in_scan_thread = threads == {threading.current_thread().name}
    assert in_scan_thread == (threaded_bytes > 0), threads
