"""Clearing after each example (``checks/clearing.py``) against keeping every account, in
the same run.

    python benchmarks/clearing.py [-k EXPRESSION] [--seed 12345] [--repeat 1]

Runs the example suite (``-k`` selects checks, e.g. ``lifecycle``) with one
hypothesis seed, so both ways drive the same examples: once as it is, once
with the clearing switched off (a plugin setting ``clears_out = False`` on
every harness), as every check ran before. Prints the best wall time of each
and their ratio; exits non-zero if the two reach different verdicts for any
check or clause.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from main_job import run, verdicts_differ, with_plugin

KEEPING = """
from pytest_stexcel_privacy.harness import holder

_open = holder.PrivacyHarness.open.__func__


def _keeping(cls, *args, **kwargs):
    harness = _open(cls, *args, **kwargs)
    harness.clears_out = False
    return harness


holder.PrivacyHarness.open = classmethod(_keeping)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="pytest -k expression (all checks)")
    parser.add_argument("--seed", default="12345", help="--hypothesis-seed (12345)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    options = ["-p", "no:xdist", f"--hypothesis-seed={args.seed}"]
    options += ["-k", args.k] if args.k else []
    with tempfile.TemporaryDirectory() as tmp:
        keeping = with_plugin(Path(tmp) / "plugins", "keeping_accounts", KEEPING)
        times: dict[str, list[float]] = {"kept": [], "cleared": []}
        verdicts, deletions = {}, {}
        for round_ in range(args.repeat):
            for way, extra, env in (
                ("kept", ["-p", "keeping_accounts"], keeping),
                ("cleared", [], None),
            ):
                report = Path(tmp) / f"{way}-{round_}"
                done = run(report, *options, *extra, env=env)
                verdicts[way] = done.verdicts
                times[way].append(done.wall)
                deletions[way] = _deletions(report / "report.json")
    kept, cleared = min(times["kept"]), min(times["cleared"])
    print(f"every account kept:      {kept:6.1f} s  ({deletions['kept']} delete() calls)")
    print(
        f"cleared after each run:  {cleared:6.1f} s  ({deletions['cleared']} delete() calls, "
        f"{kept / cleared:.2f}x faster)"
    )
    if deletions["cleared"] <= deletions["kept"]:
        print("the clearing did not run: no more delete() calls than without", file=sys.stderr)
        return 1
    if verdicts_differ(verdicts):
        return 1
    print("same verdicts for every check and clause")
    return 0


def _deletions(report: Path) -> int:
    findings = json.loads(report.read_text())["findings"]
    return sum(f["statistics"]["adapter_calls"].get("delete", 0) for f in findings)


if __name__ == "__main__":
    sys.exit(main())
