"""Residue scanning of directory trees: logs, exports, uploads, compressed archives.

Files are read as bytes in chunks and searched with one multi-pattern pass,
so a 1 GB log is never held in memory and invalid UTF-8 is no obstacle;
several files are searched at once. A chunk keeps the tail of the previous
one, so a needle split across a chunk boundary is still found, and found
once.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..contract.stores import FileStore
from ..errors import StoreUnreadable
from .decoders import Readable, decoder_for, head_bytes
from .engine_internals import file_structure
from .matcher import NeedleMatcher
from .residue import Hit

CHUNK_BYTES = 1 << 20
SCAN_THREADS = min(4, os.cpu_count() or 1)


class FileScanner:
    def __init__(self, store: FileStore, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.store = store
        self.chunk_bytes = chunk_bytes

    def open(self) -> None:
        root = self.store.root
        if not root.is_dir():
            what = "is not a directory" if root.exists() else "does not exist"
            raise StoreUnreadable(self.store.name, f"root {str(root)!r} {what}")
        if not os.access(root, os.R_OK | os.X_OK):
            raise StoreUnreadable(self.store.name, f"root {str(root)!r} is not readable")

    def close(self) -> None:
        pass

    def files(self) -> Iterator[Path]:
        def fail(exc: OSError) -> None:
            raise StoreUnreadable(self.store.name, f"cannot list {exc.filename!r}: {exc}")

        for directory, subdirs, names in os.walk(self.store.root, onerror=fail):
            subdirs.sort()
            for name in sorted(names):
                path = Path(directory, name)
                try:
                    mode = path.lstat().st_mode
                except OSError as exc:  # listed a moment ago: vanished or renamed mid-scan
                    raise StoreUnreadable(self.store.name, f"file {name!r}: {exc}") from exc
                if stat.S_ISREG(mode):  # symlinks, sockets and FIFOs hold no data of their own
                    yield path

    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]:
        """Every file, several at once (the matcher releases the GIL), reported in order."""
        self.open()
        paths = list(self.files())
        with ThreadPoolExecutor(max_workers=SCAN_THREADS) as pool:
            for path, hits in zip(
                paths, pool.map(lambda p: self._scan_file(p, matcher), paths), strict=True
            ):
                yield from hits
                scanned.append(f"{self.store.name}: {path.relative_to(self.store.root).as_posix()}")

    def _scan_file(self, path: Path, matcher: NeedleMatcher) -> list[Hit]:
        relative = path.relative_to(self.store.root).as_posix()
        decoder = None
        try:
            with path.open("rb") as raw:
                decoder = decoder_for(raw.read(head_bytes()))
                raw.seek(0)
                structure = file_structure(path)
                if decoder is None:
                    return list(self._scan_stream(raw, matcher, relative, "", structure))
                stream = decoder.open(raw)
                try:
                    return list(
                        self._scan_stream(stream, matcher, relative, f"{decoder.name} ", structure)
                    )
                finally:
                    stream.close()
        except Exception as exc:
            if decoder is not None and isinstance(exc, decoder.errors):
                what = f"a {decoder.name} container that cannot be opened: {exc}"
            elif isinstance(exc, OSError):  # includes a file removed mid-scan
                what = str(exc)
            else:
                raise
            raise StoreUnreadable(self.store.name, f"file {relative!r}: {what}") from exc

    def _scan_stream(
        self,
        stream: Readable,
        matcher: NeedleMatcher,
        relative: str,
        prefix: str,
        structure: str = "",
    ) -> Iterator[Hit]:
        if not matcher:
            return
        overlap = matcher.longest - 1
        carry = b""
        lines_before = 0  # newlines before the start of the current buffer
        while chunk := stream.read(self.chunk_bytes):
            buffer = carry + chunk
            found = sorted(matcher.search(buffer), key=lambda match: match[0])
            counted_to, line = 0, lines_before
            for start, group in found:
                if start + len(group[0].key) <= len(carry):
                    continue  # entirely inside the carried tail: reported last round
                line += buffer.count(b"\n", counted_to, start)
                counted_to = start
                for needle in group:
                    locator = f"{prefix}line {line + 1}"
                    yield Hit(self.store.name, relative, locator, needle, structure)
            carry = buffer[max(0, len(buffer) - overlap) :] if overlap else b""
            lines_before += buffer.count(b"\n", 0, len(buffer) - len(carry))
