"""The project's own tests on two workers: a core each, against the scheduler's, one run.

    python benchmarks/worker_cores.py [--repeat 2] [--workers 2] [TEST ...]

Runs the given tests (by default 16 of the mutant tests, about a minute a run) with
``-n WORKERS --dist worksteal``, alternating: ``STEXCEL_TESTS_PIN_WORKERS=0`` (the
scheduler's) and as ``tests/conftest.py`` does by default (``tests/worker_cores.py``).
Prints each run's wall and CPU time (its processes' and their children's), the medians
and their ratio; exits non-zero if a run fails or the two ways differ in what passed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MUTANTS = [
    "SoftDeleteOnly",
    "AnalyticsToEu",
    "IgnoresOptOutForFlashSales",
    "LogPurgeOnlyForBuyers",
    "HashedEmailKeptForDedup",
    "CsvExportNotPurged",
    "SessionKeepsName",
    "SequentialShortIdLinks",
    "UnsignedUnsubscribeLink",
    "BackupToNonUs",
    "ProcessorNeverTold",
    "CaseSensitiveImport",
    "NameIndexDropsApostrophes",
    "SentMailKeepsRecipient",
    "DeletesEveryonesOrders",
    "ReplicatesToFrankfurt",
]
DEFAULT_TESTS = [
    f"tests/test_mutants.py::test_mutant_is_caught_by_the_right_clause[{name}]" for name in MUTANTS
]


def run(tests: list[str], workers: int, pinned: bool) -> tuple[float, float, str]:
    """One run: its wall time, the CPU its processes spent, and pytest's last line."""
    env = {**os.environ, "STEXCEL_TESTS_PIN_WORKERS": "1" if pinned else "0"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-n", str(workers), "--dist", "worksteal", *tests]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    last = (done.stdout.strip().splitlines() or [""])[-1]
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return wall, cpu, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", nargs="*", help="test ids or paths (16 mutant tests)")
    parser.add_argument("--repeat", type=int, default=2, help="pairs of runs (2)")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (2)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    tests = args.tests or DEFAULT_TESTS
    walls: dict[bool, list[float]] = {False: [], True: []}
    outcomes: dict[bool, set[str]] = {False: set(), True: set()}
    for pair in range(1, args.repeat + 1):
        for pinned in (False, True):
            wall, cpu, last = run(tests, args.workers, pinned)
            walls[pinned].append(wall)
            # "16 passed, 16 warnings in 41.8s": what passed, without the time
            outcomes[pinned].add(last.split(" in ")[0].split(",")[0])
            way = "a core each " if pinned else "scheduler's "
            print(f"pair {pair}: {way} {wall:6.1f} s wall, {cpu:6.1f} s CPU  ({last})")
    if outcomes[False] != outcomes[True] or len(outcomes[True]) != 1:
        print(f"the two ways ended differently: {outcomes}", file=sys.stderr)
        return 1
    shared, pinned_median = statistics.median(walls[False]), statistics.median(walls[True])
    print(
        f"medians: {shared:.1f} s left to the scheduler, {pinned_median:.1f} s a core each "
        f"({shared / pinned_median:.2f}x faster)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
