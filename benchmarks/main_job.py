"""The README's main job: the example suite, one process against two workers.

Runs ``pytest examples/jewelry_erp --privacy-report=DIR`` three times: ``-p no:xdist``,
then ``-n 2 --dist worksteal`` (or ``--workers``), then the same with each worker ordering
its checks as before the worksteal lanes (every long check first, so worksteal's first
share hands them all to one worker). Prints each wall time and the speed-ups, and exits
non-zero when the reports disagree on any check's or clause's status: a faster run that
reaches other verdicts is not faster.

``--repeat N`` repeats the three runs N times, one after the other, and prints each
round's ratios and their medians: on a machine whose speed drifts from minute to minute,
one round's ratio says little.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(
    report_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> tuple[float, dict[str, object]]:
    """One run of the example suite (``env``: its environment, if not this one's): its
    wall time and every check's and clause's status."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "examples/jewelry_erp",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--privacy-report={report_dir}",
        *extra,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    report = json.loads((report_dir / "report.json").read_text())
    verdicts = {
        "checks": {f["nodeid"].split("::")[-1]: f["status"] for f in report["findings"]},
        "clauses": {c["id"]: c["status"] for c in report["clauses"]},
    }
    return elapsed, verdicts


def verdicts_differ(verdicts: dict[str, object]) -> bool:
    """Whether the runs named in ``verdicts`` reached different verdicts (then printed):
    a faster run that reaches other verdicts is not faster."""
    first, *others = verdicts.values()
    if all(other == first for other in others):
        return False
    print("the runs reached different verdicts:", file=sys.stderr)
    print(json.dumps(verdicts, indent=1), file=sys.stderr)
    return True


LONG_CHECKS_FIRST = """
from pytest_stexcel_privacy.checks import worker_order

worker_order.lanes_for_worksteal = lambda items, workers: worker_order.long_checks_first(items)
"""


def with_plugin(directory: Path, name: str, source: str) -> dict[str, str]:
    """The environment of a run given the plugin ``name`` (``-p name``) written from
    ``source`` into ``directory``: on the path of the run and of its xdist workers."""
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.py").write_text(source)
    path = os.pathsep.join(filter(None, [str(directory), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (2)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="times to run all three, alternating (1)"
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    workers = ["-n", str(args.workers), "--dist", "worksteal"]
    speedups: list[float] = []
    lane_gains: list[float] = []
    verdicts: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        before = with_plugin(Path(tmp) / "plugins", "long_checks_first", LONG_CHECKS_FIRST)
        for round_ in range(1, args.repeat + 1):
            one, verdicts["one"] = run(Path(tmp) / "one", "-p", "no:xdist")
            many, verdicts["many"] = run(Path(tmp) / "many", *workers)
            first, verdicts["first"] = run(
                Path(tmp) / "first", *workers, "-p", "long_checks_first", env=before
            )
            if args.repeat > 1:
                print(f"round {round_}:")
            print(f"one process:        {one:6.1f} s")
            print(f"{args.workers} workers:          {many:6.1f} s  ({one / many:.2f}x faster)")
            print(
                f"  long checks first: {first:6.1f} s  "
                f"({one / first:.2f}x; the lanes {first / many:.2f}x)"
            )
            if verdicts_differ(verdicts):
                return 1
            speedups.append(one / many)
            lane_gains.append(first / many)
    if args.repeat > 1:
        print(
            f"median of {args.repeat} rounds: {statistics.median(speedups):.2f}x faster with "
            f"{args.workers} workers; the lanes {statistics.median(lane_gains):.2f}x"
        )
    print("same verdicts for every check and clause")
    return 0


if __name__ == "__main__":
    sys.exit(main())
