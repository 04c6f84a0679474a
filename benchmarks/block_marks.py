"""A stream block's marks: the two searches against Hyperscan's one pass, and the race.

Marks blocks of joined rows (``pg_ranges.py``'s format) for 100 persons' needles, the
ways ``scan/block_marks.py`` can:

* ``two``: the needles' automaton over the block lower-cased, then the encoded-cell test;
* ``one``: one Hyperscan pass of the needles' prefixes (either case) and that test;
* ``race``: a new race of the two (as a scan starts), over the same blocks three times,
  once its first block has built the one pass (that build is printed apart).

over three kinds of rows, generated here: hex strings (an id, 32 and 64 hex digits),
customers (names, e-mail addresses, phones, a JSON column), and rows full of the
needles' 12-byte prefixes (two a row), where the one pass checks each in Python.

    python benchmarks/block_marks.py [--megabytes 60] [--repeat 3]

Prints each way's CPU milliseconds per MB (medians of ``--repeat``, the ways
alternating) and exits non-zero if the one pass marks other cells than the two
searches. Needs Hyperscan (the ``fast`` extra).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable

from pytest_stexcel_privacy.people.persons import assemble, mint
from pytest_stexcel_privacy.scan import hyperscan_search
from pytest_stexcel_privacy.scan.block_marks import Marks, OnePass, TwoSearches, block_marks
from pytest_stexcel_privacy.scan.copy_stream import JOINED
from pytest_stexcel_privacy.scan.hyperscan_search import PREFIX_BYTES
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher

BLOCK_BYTES = 2 << 20  # as a range of pg_ranges.py reads
SEPARATORS = JOINED.cell + JOINED.line


def rows_of(kind: str, keys: list[bytes]) -> Callable[[int], bytes]:
    def hex_row(i: int) -> bytes:
        digest = hashlib.sha256(b"%d" % i).hexdigest().encode()
        return b"%d\x1f%s\x1f%s" % (i, digest[:32], digest)

    def customer(i: int) -> bytes:
        given, family = (b"Olivia", b"Liam", b"Emma", b"Noah")[i % 4], b"Smith%d" % (i % 997)
        mail = b"%s.%s@example.com" % (given.lower(), family.lower())
        prefs = b'{"newsletter": %s, "size": %d}' % (b"true" if i % 2 else b"false", i % 12)
        return b"%d\x1f%s\x1f%s\x1f%s\x1f(555) 01%02d\x1f%s" % (
            i,
            given,
            family,
            mail,
            i % 100,
            prefs,
        )

    def prefixes(i: int) -> bytes:
        first, second = keys[i % len(keys)], keys[(7 * i) % len(keys)]
        return b"%d\x1f%szz\x1f%sq" % (i, first[:PREFIX_BYTES], second[:PREFIX_BYTES])

    return {"hex": hex_row, "customers": customer, "prefixes": prefixes}[kind]


def blocks_of(row: Callable[[int], bytes], megabytes: int) -> list[bytes]:
    blocks: list[bytes] = []
    number = 0
    while sum(map(len, blocks)) < megabytes << 20:
        lines: list[bytes] = []
        size = 0
        while size < BLOCK_BYTES:
            lines.append(row(number))
            size += len(lines[-1]) + 1
            number += 1
        blocks.append(b"\x1e".join(lines))
    return blocks


def cells(block: bytes, marks: Marks) -> tuple[set[tuple[int, int]], set[int]]:
    """The marked cells as ``(line start, cell number)``; the encoded starts."""
    needles = set()
    for start in marks[0]:
        line = block.rfind(JOINED.line, 0, start) + 1
        needles.add((line, block.count(JOINED.cell, line, start)))
    return needles, marks[1]


def cpu_ms_per_mb(search: Callable[[bytes], object], blocks: list[bytes], passes: int) -> float:
    started = time.thread_time()
    for _ in range(passes):
        for block in blocks:
            search(block)
    return (time.thread_time() - started) * 1000 / (passes * sum(map(len, blocks)) / 1e6)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=60, help="per kind of rows")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not hyperscan_search.available():
        sys.exit("Hyperscan is not installed: pip install -e '.[fast]'")
    mint.reseed("stexcel-bench")
    people = [assemble(given=f"Gi{i}", family=f"Fa{i}") for i in range(100)]
    matcher = NeedleMatcher(n for p in people for n in p.needles)
    keys = tuple(dict.fromkeys(n.key.lower() for n in matcher.needles))
    two, one = TwoSearches(keys, SEPARATORS), OnePass(keys, SEPARATORS)
    wrong = 0
    for kind in ("hex", "customers", "prefixes"):
        blocks = blocks_of(rows_of(kind, sorted(keys)), args.megabytes)
        for block in blocks[:4]:  # past the automaton's NFA, as in a long scan
            two.find_matches_as_indexes(block)
        if any(
            cells(b, two.find_matches_as_indexes(b)) != cells(b, one.find_matches_as_indexes(b))
            for b in blocks
        ):
            print(f"WRONG: the one pass marks other cells over {kind}", file=sys.stderr)
            wrong += 1
        times: dict[str, list[float]] = {"two": [], "one": [], "race": []}
        builds: list[float] = []
        for _ in range(args.repeat):
            times["two"].append(cpu_ms_per_mb(two.find_matches_as_indexes, blocks, 1))
            times["one"].append(cpu_ms_per_mb(one.find_matches_as_indexes, blocks, 1))
            block_marks.cache_clear()  # a new race, as a scan of new needles starts one
            race = block_marks(keys, SEPARATORS)
            started = time.thread_time()
            race.find_matches_as_indexes(blocks[0])  # builds the one pass: timed apart
            builds.append(time.thread_time() - started)
            times["race"].append(cpu_ms_per_mb(race.find_matches_as_indexes, blocks, 3))
        size = sum(map(len, blocks)) / 1e6
        figures = ", ".join(f"{way} {statistics.median(t):.2f}" for way, t in times.items())
        build = statistics.median(builds)
        print(
            f"{kind:9s} ({size:.0f} MB): {figures} ms of CPU per MB; the race's build {build:.2f} s"
        )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
