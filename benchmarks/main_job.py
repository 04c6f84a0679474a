"""The README's main job: the example suite, one process against two workers.

Runs ``pytest examples/jewelry_erp --privacy-report=DIR`` four times: ``-p no:xdist``,
then ``-n 2 --dist worksteal`` (or ``--workers``), then the same with the workers left on
the scheduler's cores (``--privacy-pin-workers=off``: without it each worker keeps to cores
of its own), then with each worker ordering its checks as before the worksteal lanes
(every long check first, so worksteal's first share hands them all to one worker). Prints
each wall time and the speed-ups, and exits non-zero when the reports disagree on any
check's or clause's status: a faster run that reaches other verdicts is not faster.

``--repeat N`` repeats the runs N times, one after the other, and prints each round's
ratios and their medians: on a machine whose speed drifts from minute to minute, one
round's ratio says little.

Every run gets the same ``--hypothesis-seed`` (``--seed``, 12345 unless given; ``--seed
random`` for none), so the runs draw the same examples and do the same work: with a
seed of their own each, the length of the sequences hypothesis happened to draw moved
the ratio more than the workers did.

``--pin`` holds each process that runs checks for its whole run (as the project's tests
hold their workers): a worker ``gwN`` to the Nth share of the cores, a lone process to
the first core (xdist's controller runs none). It does so in every run, the "unheld"
workers' too, so with ``--pin`` their line compares two held runs.

Each line also gives the checks' summed time (setup, call and teardown, from the
report): what the same work costs when two workers share the cores, against one
process, apart from start-up and the lanes' balance.

Each round also measures the job's fixed part: the same runs, each way, with only the
quickest checks (one per worker). What they cost is what every process pays whatever it
runs: the interpreter, pytest and its plugins, collection, the first check's imports and
servers, and the end (xdist adds its workers' start and exit). The rest of the
one-process time, shared perfectly among the workers on top of their fixed part, gives
the *ceiling*: the most the workers could gain on this machine for this job if their
checks cost what the lone process's do. Only cheaper checks pass it: those of workers
held to cores of their own are (the checks' summed time under 1.00x); left on the
scheduler's cores, theirs cost more, and no balancing of the lanes reaches the ceiling.
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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    wall: float  # seconds, start-up included
    checks: float  # the checks' summed duration, seconds
    verdicts: Mapping[str, object]  # every check's and clause's status
    durations: Mapping[str, float]  # each check's, by node id


EXAMPLE = "examples/jewelry_erp"


def run(
    report_dir: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    checks: tuple[str, ...] = (),
) -> Run:
    """One run of the example suite (``env``: its environment, if not this one's), or of
    only the ``checks`` named (node ids, as the report gives them)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        *([f"{EXAMPLE}/{check}" for check in checks] or [EXAMPLE]),
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
    durations = {f["nodeid"]: f["duration"] for f in report["findings"]}
    return Run(elapsed, sum(durations.values()), verdicts, durations)


def quickest(done: Run, count: int) -> tuple[str, ...]:
    """The ``count`` checks of ``done`` that took least time."""
    return tuple(sorted(done.durations, key=done.durations.__getitem__)[:count])


def ceiling(one: float, fixed_one: float, fixed_many: float, workers: int) -> float:
    """The most ``workers`` could gain: what one process does beyond its fixed part,
    shared perfectly among them on top of theirs."""
    return one / (fixed_many + max(0.0, one - fixed_one) / workers)


def _checks(this: Run, one: Run) -> str:
    """The checks' summed time of ``this`` run, against the one-process run's."""
    if this is one:
        return f"  (checks {this.checks:.1f} s)"
    return f"  (checks {this.checks:.1f} s, {this.checks / one.checks:.2f}x one process's)"


def verdicts_differ(verdicts: Mapping[str, object]) -> bool:
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


# The project's tests pin their workers the same way (tests/worker_cores.py).
PIN_CORES = f"""
import sys

sys.path.append({str(ROOT / "tests")!r})
from worker_cores import pin_this_worker


def pytest_configure(config):
    pin_this_worker(lone=not getattr(config.option, "numprocesses", None))
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
        "--repeat", type=int, default=1, help="times to do every run, alternating (1)"
    )
    parser.add_argument(
        "--seed", default="12345", help="hypothesis seed of every run, or 'random' (12345)"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="hold the lone process to a core, each worker to its share, for the whole run",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    if args.pin and not hasattr(os, "sched_setaffinity"):
        parser.error("--pin needs os.sched_setaffinity (Linux)")
    common = [] if args.seed == "random" else [f"--hypothesis-seed={args.seed}"]
    common += ["-p", "pin_cores"] if args.pin else []
    workers = ["-n", str(args.workers), "--dist", "worksteal"]
    speedups: list[float] = []
    lane_gains: list[float] = []
    held_gains: list[float] = []
    inflations: list[float] = []
    ceilings: list[float] = []
    verdicts: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with_plugins = with_plugin(Path(tmp) / "plugins", "pin_cores", PIN_CORES)
        with_plugin(Path(tmp) / "plugins", "long_checks_first", LONG_CHECKS_FIRST)
        env = with_plugins if args.pin else None
        for round_ in range(1, args.repeat + 1):
            runs = {
                "one": run(Path(tmp) / "one", *common, "-p", "no:xdist", env=env),
                "many": run(Path(tmp) / "many", *common, *workers, env=env),
                "unheld": run(
                    Path(tmp) / "unheld", *common, *workers, "--privacy-pin-workers=off", env=env
                ),
                "first": run(
                    Path(tmp) / "first",
                    *common,
                    *workers,
                    "-p",
                    "long_checks_first",
                    env=with_plugins,
                ),
            }
            few = quickest(runs["one"], args.workers)
            fixed_one = run(Path(tmp) / "fixed-one", *common, "-p", "no:xdist", env=env, checks=few)
            fixed_many = run(Path(tmp) / "fixed-many", *common, *workers, env=env, checks=few)
            one, many, unheld, first = (
                runs[name].wall for name in ("one", "many", "unheld", "first")
            )
            most = ceiling(one, fixed_one.wall, fixed_many.wall, args.workers)
            if args.repeat > 1:
                print(f"round {round_}:")
            print(f"one process:        {one:6.1f} s{_checks(runs['one'], runs['one'])}")
            print(
                f"{args.workers} workers:          {many:6.1f} s  ({one / many:.2f}x faster)"
                f"{_checks(runs['many'], runs['one'])}"
            )
            print(
                f"  scheduler's cores: {unheld:6.1f} s  "
                f"({one / unheld:.2f}x; held {unheld / many:.2f}x faster)"
                f"{_checks(runs['unheld'], runs['one'])}"
            )
            print(
                f"  long checks first: {first:6.1f} s  "
                f"({one / first:.2f}x; the lanes {first / many:.2f}x)"
                f"{_checks(runs['first'], runs['one'])}"
            )
            print(
                f"  fixed part:        {fixed_one.wall:6.1f} s one process, "
                f"{fixed_many.wall:.1f} s {args.workers} workers ({len(few)} quickest checks): "
                f"ceiling {most:.2f}x"
            )
            verdicts.update((name, done.verdicts) for name, done in runs.items())
            if verdicts_differ(verdicts):
                return 1
            speedups.append(one / many)
            lane_gains.append(first / many)
            held_gains.append(unheld / many)
            inflations.append(runs["many"].checks / runs["one"].checks)
            ceilings.append(most)
    if args.repeat > 1:
        print(
            f"median of {args.repeat} rounds: {statistics.median(speedups):.2f}x faster with "
            f"{args.workers} workers; held to cores {statistics.median(held_gains):.2f}x; "
            f"the lanes {statistics.median(lane_gains):.2f}x; the "
            f"checks' summed time {statistics.median(inflations):.2f}x one process's; "
            f"the ceiling {statistics.median(ceilings):.2f}x"
        )
    print("same verdicts for every check and clause")
    return 0


if __name__ == "__main__":
    sys.exit(main())
