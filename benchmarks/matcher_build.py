"""The needle automata of the README's main job: always a DFA, against NFA first.

Records every automaton the example's suite builds (one seeded run, in a subprocess)
and every search made with it, then replays that work both ways in this process:

* ``dfa``: each automaton built as a DFA at once (before ``scan/matcher.py``'s
  ``Automaton``);
* ``adaptive``: ``Automaton``, an NFA until it has searched enough to pay for a DFA.

    python benchmarks/matcher_build.py [--repeat 3] [--seed 12345]

Prints each way's build and search time (medians of ``--repeat`` replays, the two ways
alternating) and exits non-zero if any search found different matches.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import ahocorasick_rs

from pytest_stexcel_privacy.scan.matcher import DFA_MAX_NEEDLES, Automaton

ROOT = Path(__file__).resolve().parent.parent

# A plugin for the recorded run: wraps Automaton to keep its needles and each search.
RECORDER = textwrap.dedent(
    """
    import atexit, os, pickle
    from pytest_stexcel_privacy.scan import matcher

    recorded = []
    built = matcher.Automaton.__init__
    search = matcher.Automaton.find_matches_as_indexes

    def init(self, keys, kind):
        built(self, keys, kind)
        self.calls = []
        recorded.append((keys, str(kind), self.calls))

    def find(self, haystack, overlapping=False):
        self.calls.append((bytes(memoryview(haystack)), overlapping))
        return search(self, haystack, overlapping)

    matcher.Automaton.__init__ = init
    matcher.Automaton.find_matches_as_indexes = find

    @atexit.register
    def save():
        with open(os.environ["MATCHER_RECORD"], "wb") as out:
            pickle.dump(recorded, out)
    """
)

Recorded = list[tuple[tuple[bytes, ...], str, list[tuple[bytes, bool]]]]
KINDS = {
    str(k): k for k in (ahocorasick_rs.MatchKind.Standard, ahocorasick_rs.MatchKind.LeftmostFirst)
}


def record(seed: str) -> Recorded:
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "matcher_recorder.py").write_text(RECORDER, encoding="utf-8")
        out = Path(directory, "record.pickle")
        env = dict(
            os.environ,
            MATCHER_RECORD=str(out),
            PYTHONPATH=os.pathsep.join([directory, os.environ.get("PYTHONPATH", "")]),
        )
        subprocess.run(
            [
                *(sys.executable, "-m", "pytest", "examples/jewelry_erp", "-q"),
                *("-p", "no:cacheprovider", "-p", "matcher_recorder", f"--hypothesis-seed={seed}"),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with out.open("rb") as recorded:
            result: Recorded = pickle.load(recorded)
            return result


def replay(work: Recorded, adaptive: bool) -> tuple[float, float, list[Any]]:
    """(seconds building, seconds searching, every search's matches)."""
    building = searching = 0.0
    found: list[Any] = []
    for keys, kind_name, calls in work:
        kind = KINDS[kind_name]
        started = time.perf_counter()
        # before: a DFA at once, unless there were too many needles (then the library's pick)
        before = None if len(keys) > DFA_MAX_NEEDLES else ahocorasick_rs.Implementation.DFA
        automaton: Any = (
            Automaton(keys, kind)
            if adaptive
            else ahocorasick_rs.BytesAhoCorasick(list(keys), implementation=before, matchkind=kind)
        )
        building += time.perf_counter() - started
        started = time.perf_counter()
        found.extend(automaton.find_matches_as_indexes(h, overlapping=o) for h, o in calls)
        searching += time.perf_counter() - started
    return building, searching, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="replays each way (3)")
    parser.add_argument("--seed", default="12345", help="--hypothesis-seed of the recorded run")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    work = record(args.seed)
    calls = [c for _, _, cs in work for c in cs]
    print(
        f"{len(work)} automata, {len(calls):,} searches of "
        f"{sum(len(h) for h, _ in calls) / 1e6:.1f} MB (seed {args.seed})"
    )
    times: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    reference: list[Any] | None = None
    for _ in range(args.repeat):
        for adaptive in (False, True):
            building, searching, found = replay(work, adaptive)
            if reference is None:
                reference = found
            elif found != reference:
                print("the two ways found different matches", file=sys.stderr)
                return 1
            times[adaptive].append((building, searching))
    totals = {}
    for adaptive, name in ((False, "dfa"), (True, "adaptive")):
        building = statistics.median(b for b, _ in times[adaptive])
        searching = statistics.median(s for _, s in times[adaptive])
        totals[adaptive] = statistics.median(b + s for b, s in times[adaptive])
        switched = " (with the DFAs built on the way)" if adaptive else ""
        print(
            f"{name:9s} build {building:.3f} s, search {searching:.3f} s{switched}, "
            f"total {totals[adaptive]:.3f} s"
        )
    print(f"adaptive: {totals[False] / totals[True]:.2f}x the always-DFA speed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
