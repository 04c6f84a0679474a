"""Two workers' start-up: the example imported at the first check against imported by
every process at configure time (as its conftest did before), in the same run.

    python benchmarks/xdist_startup.py [-k EXPRESSION] [--repeat 4]

Runs the example suite with ``-n 2 --dist worksteal`` and a few quick checks (``-k``),
so start-up is most of the wall time: as it is, and with a plugin that imports
``privacy_adapter`` in ``pytest_configure``, which xdist's controller runs before it
starts the workers (the workers run it too, as they read the conftest before). The two
ways alternate; prints each pair, the medians and their difference; exits non-zero if
they reach different verdicts for any check or clause.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from main_job import run, verdicts_differ, with_plugin

EAGER = """
def pytest_configure(config):
    import privacy_adapter  # noqa: F401
"""

QUICK_CHECKS = "test_stores_are_in_the_us or test_age_gate_is_exact"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default=QUICK_CHECKS, help=f"pytest -k expression ({QUICK_CHECKS})")
    parser.add_argument("--repeat", type=int, default=4, help="pairs of runs (4)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    options = ["-n", "2", "--dist", "worksteal", "-k", args.k]
    times: dict[str, list[float]] = {"eager": [], "lazy": []}
    verdicts: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        eager = with_plugin(Path(tmp) / "plugins", "eager_example_import", EAGER)
        for round_ in range(args.repeat):
            for way, extra, env in (
                ("eager", ["-p", "eager_example_import"], eager),
                ("lazy", [], None),
            ):
                done = run(Path(tmp) / f"{way}-{round_}", *options, *extra, env=env)
                verdicts[way] = done.verdicts
                times[way].append(done.wall)
            print(
                f"pair {round_ + 1}: imported at configure {times['eager'][-1]:5.2f} s, "
                f"at the first check {times['lazy'][-1]:5.2f} s"
            )
            if verdicts_differ(verdicts):
                return 1
    eager_median, lazy_median = statistics.median(times["eager"]), statistics.median(times["lazy"])
    print(
        f"medians: {eager_median:.2f} s against {lazy_median:.2f} s "
        f"({eager_median - lazy_median:+.2f} s, {eager_median / lazy_median:.2f}x)"
    )
    print("same verdicts for every check and clause")
    return 0


if __name__ == "__main__":
    sys.exit(main())
