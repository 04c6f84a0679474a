"""File residue scan of a few small files: in the scan's own thread against a thread pool,
measured in the same run.

    python benchmarks/small_files_scan.py [--files 4] [--kilobytes 8] [--scans 300] [--repeat 5]

A module's log and export directories usually hold a few small files, and a
lifecycle scans them after every step: there starting threads, not searching,
is the cost. Writes ``--files`` files of ``--kilobytes`` each (one holding a
planted person) in a temporary directory, then times ``--scans`` scans each
way, best of ``--repeat``, a fresh matcher per scan (so nothing is remembered
between scans), and prints both and their ratio. Exits non-zero if the two
ways do not find the same hits.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from pytest_stexcel_privacy import FileStore
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import files
from pytest_stexcel_privacy.scan.files import FileScanner
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--kilobytes", type=int, default=8)
    parser.add_argument("--scans", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    person = assemble(given="Ann", family="Lee")
    line = "2026-12-02 12:00:00 INFO order 1042 shipped to the courier\n"
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for number in range(args.files):
            text = line * (args.kilobytes * 1024 // len(line))
            if number == 0:
                text += f"welcome mail sent to {person.email}\n"
            (root / f"app-{number}.log").write_text(text)
        scanner = FileScanner(FileStore(root, name="logs"))
        default = files.THREADED_BYTES
        print(f"(the scanner uses its own thread below {default // 1024} KB in all)")

        def timed(threaded_bytes: int) -> tuple[float, list[tuple[str, str, str]]]:
            files.THREADED_BYTES = threaded_bytes
            best, hits = float("inf"), []
            for _ in range(args.repeat):
                start = time.perf_counter()
                for _ in range(args.scans):
                    found = list(scanner.scan(NeedleMatcher(person.needles), []))
                best = min(best, time.perf_counter() - start)
                hits = [(h.location, h.locator, h.field) for h in found]
            return best, hits

        try:
            pooled, pooled_hits = timed(0)  # every scan a pool
            inline, inline_hits = timed(sys.maxsize)  # every scan in its own thread
        finally:
            files.THREADED_BYTES = default
    print(f"{args.scans} scans of {args.files} files of {args.kilobytes} KB, best of {args.repeat}")
    print(f"  thread pool per scan:  {pooled:.3f} s")
    print(f"  in the scan's thread:  {inline:.3f} s ({pooled / inline:.2f}x faster)")
    if inline_hits != pooled_hits or not inline_hits:
        print(f"different hits: {inline_hits} against {pooled_hits}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
