"""Residue scanning of directory trees: logs, exports, uploads, compressed archives.

Symbolic links are followed (loop-safe) and named with their real path;
containers (gzip, bzip2, xz, zip members, UTF-16/32 text, one inside
another) are opened through ``decoders.py``; a format recognised but not
readable, or an encrypted member, makes the store unreadable.

Files are read as bytes in chunks and searched with one multi-pattern pass,
so a 1 GB log is never held in memory and invalid UTF-8 is no obstacle;
several files are searched at once. A chunk keeps the tail of the previous
one, so a needle split across a chunk boundary is still found, and found
once.
"""

from __future__ import annotations

import errno
import hashlib
import io
import math
import os
import stat
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, cast

from ..contract.stores import FileStore
from ..errors import StoreUnreadable
from .clean_values import clean_values
from .decoders import (
    MAX_DEPTH,
    Archive,
    ContainerUnreadable,
    Decoder,
    Peeked,
    Stream,
    archive_for,
    decoded_matches,
    decoder_for,
    store_decoders,
    unreadable_format,
)
from .engine_internals import file_structure
from .folded_window import FoldedWindow
from .matcher import NeedleMatcher
from .residue import Hit

CHUNK_BYTES = 1 << 20
# A file up to this size that is no container is also decoded whole as one value (a
# pickled cache, a file-backed signed session); see decoders.py.
FILE_VALUE_BYTES = 1 << 20
SCAN_THREADS = min(4, os.cpu_count() or 1)
# Files that together hold less than this are searched in the scan's own thread: starting
# threads would cost more than searching them (a lifecycle scans after every step).
# Measured by benchmarks/small_files_scan.py: four files of 64 KB each are searched 1.5 to
# 1.8x faster so; from four of 256 KB the threads are as fast or faster.
THREADED_BYTES = 512 << 10


class FileScanner:
    def __init__(self, store: FileStore, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.store = store
        self.chunk_bytes = chunk_bytes
        self.decoders = store_decoders(store.name, store.decoders)

    def open(self) -> None:
        root = self.store.root
        if not root.is_dir():
            what = "is not a directory" if root.exists() else "does not exist"
            raise StoreUnreadable(self.store.name, f"root {str(root)!r} {what}")
        if not os.access(root, os.R_OK | os.X_OK):
            raise StoreUnreadable(self.store.name, f"root {str(root)!r} is not readable")

    def close(self) -> None:
        pass

    def files(self) -> Iterator[tuple[Path, str]]:
        """Every regular file under the root with the location evidence names it by.

        Symbolic links are followed, each directory searched once (a link loop
        ends); a file reached through a link is named ``link/path -> real/path``.
        A dangling link holds no data of its own.
        """
        root = self.store.root
        real_root = Path(os.path.realpath(root))
        visited: set[tuple[int, int]] = set()

        def fail(exc: OSError) -> None:
            raise StoreUnreadable(self.store.name, f"cannot list {exc.filename!r}: {exc}")

        for directory, subdirs, names in os.walk(root, onerror=fail, followlinks=True):
            try:
                info = os.stat(directory)
            except OSError as exc:
                raise StoreUnreadable(self.store.name, f"cannot list {directory!r}: {exc}") from exc
            if (info.st_dev, info.st_ino) in visited:
                subdirs[:] = []  # reached again through a link: searched already
                continue
            visited.add((info.st_dev, info.st_ino))
            subdirs.sort()
            for name in sorted(names):
                path = Path(directory, name)
                try:
                    mode = path.stat().st_mode
                except OSError as exc:  # vanished or renamed mid-scan, or a dangling link
                    if path.is_symlink() and exc.errno in (errno.ENOENT, errno.ELOOP):
                        continue
                    raise StoreUnreadable(self.store.name, f"file {name!r}: {exc}") from exc
                if stat.S_ISREG(mode):  # sockets and FIFOs hold no data of their own
                    yield path, self._location(path, real_root)

    def _location(self, path: Path, real_root: Path) -> str:
        relative = path.relative_to(self.store.root).as_posix()
        real = Path(os.path.realpath(path))
        if real == real_root / relative:
            return relative
        inside = real.is_relative_to(real_root)
        return f"{relative} -> {real.relative_to(real_root).as_posix() if inside else real}"

    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]:
        """Every file, reported in order: several at once (the matcher releases the GIL),
        unless together they are too small to pay for the threads."""
        self.open()
        files = list(self.files())
        if _total_bytes(path for path, _ in files) < THREADED_BYTES:
            for path, location in files:
                yield from self._scan_file(path, location, matcher)
                scanned.append(f"{self.store.name}: {location}")
            return
        with ThreadPoolExecutor(max_workers=SCAN_THREADS) as pool:
            for (_, location), hits in zip(
                files, pool.map(lambda f: self._scan_file(f[0], f[1], matcher), files), strict=True
            ):
                yield from hits
                scanned.append(f"{self.store.name}: {location}")

    def _scan_file(self, path: Path, location: str, matcher: NeedleMatcher) -> list[Hit]:
        opened: list[Decoder | Archive] = []  # every container opened, to name one that fails
        structure = file_structure(path)
        try:
            with path.open("rb") as raw:
                # A file small enough to be decoded whole is read once, and not searched
                # again while its bytes stay the same (``clean_values``); a larger one, or
                # one that grew past the limit since its size was taken, is streamed.
                small = os.fstat(raw.fileno()).st_size <= FILE_VALUE_BYTES
                whole = raw.read(FILE_VALUE_BYTES + 1) if small else b""
                if len(whole) > FILE_VALUE_BYTES:
                    small, whole = False, b""
                    raw.seek(0)
                clean = clean_values(matcher, self.decoders) if small else None
                digest = None if clean is None else ("file", hashlib.blake2b(whole).digest())
                known = None if clean is None else clean.searched(digest)
                if known is not None:
                    matcher.count_searched(*known)
                    return []
                source = io.BytesIO(whole) if small else raw
                with matcher.tally() as tally:
                    hits = list(self._scan_layers(source, matcher, location, "", structure, opened))
                    if not opened and matcher and small:
                        for way, needle in decoded_matches(matcher, whole, self.decoders):
                            where = f"in {way}"
                            hits.append(Hit(self.store.name, location, where, needle, structure))
                if not hits and clean is not None and digest is not None:
                    clean.add(digest, len(digest[1]), (tally[0], tally[1]))
                return hits
        except Exception as exc:
            failed = next((c for c in reversed(opened) if isinstance(exc, c.errors)), None)
            if isinstance(exc, ContainerUnreadable):
                what = str(exc)
            elif failed is not None:
                what = f"a {failed.name} container that cannot be opened: {exc}"
            elif isinstance(exc, OSError):  # includes a file removed mid-scan
                what = str(exc)
            else:
                raise
            raise StoreUnreadable(self.store.name, f"file {location!r}: {what}") from exc

    def _scan_layers(
        self,
        stream: Stream,
        matcher: NeedleMatcher,
        location: str,
        prefix: str,
        structure: str,
        opened: list[Decoder | Archive],
        depth: int = 0,
    ) -> Iterator[Hit]:
        """Search ``stream``, opening every container it is, and every one inside that."""
        peeked = Peeked(stream)
        archive = archive_for(peeked.head)
        decoder = None if archive else decoder_for(peeked.head)
        if archive is None and decoder is None:
            unknown = unreadable_format(peeked.head)
            if unknown is not None:
                raise ContainerUnreadable(f"cannot read this format ({unknown})")
            yield from self._scan_stream(peeked, matcher, location, prefix, structure)
            return
        if depth >= MAX_DEPTH:
            raise ContainerUnreadable(f"containers nested more than {MAX_DEPTH} deep")
        if archive is not None:
            opened.append(archive)
            if depth == 0:  # the file itself: seekable, as an archive needs
                cast(BinaryIO, stream).seek(0)
                source = cast(BinaryIO, stream)
            else:
                source = io.BytesIO(peeked.read())
            for name, member in archive.members(source):
                try:
                    yield from self._scan_layers(
                        member, matcher, f"{location}!{name}", "", structure, opened, depth + 1
                    )
                finally:
                    member.close()
            return
        assert decoder is not None
        opened.append(decoder)
        inner = decoder.open(cast(BinaryIO, peeked))
        try:
            yield from self._scan_layers(
                inner, matcher, location, f"{prefix}{decoder.name} ", structure, opened, depth + 1
            )
        finally:
            inner.close()

    def _scan_stream(
        self,
        stream: Peeked,
        matcher: NeedleMatcher,
        relative: str,
        prefix: str,
        structure: str = "",
    ) -> Iterator[Hit]:
        if not matcher:
            return
        overlap = matcher.longest - 1
        window = FoldedWindow(self.chunk_bytes, overlap)
        lines_before = 0  # newlines before the start of the current window
        while (folded := window.fill(stream.readinto)) is not None:
            found = sorted(matcher.search_folded(folded, window.original), key=lambda m: m[0])
            counted_to, line = 0, lines_before
            for start, group in found:
                if start + len(group[0].key) <= window.carried:
                    continue  # entirely inside the carried tail: reported last round
                line += window.newlines(counted_to, start)
                counted_to = start
                for needle in group:
                    locator = f"{prefix}line {line + 1}"
                    yield Hit(self.store.name, relative, locator, needle, structure)
            lines_before += window.newlines(0, window.size - min(overlap, window.size))


def _total_bytes(paths: Iterable[Path]) -> float:
    """What the files hold together; one that cannot be sized counts as large, so its
    error is met where the threaded scan meets it."""
    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except OSError:
            return math.inf
    return total
