"""xdist workers that run privacy checks each keep to a share of the cores of their own
(``checks/worker_cores.py``), and only when that is possible and wanted; this suite's
workers do from their start (``tests/worker_cores.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_stexcel_privacy.checks.worker_cores import share_of_cores
from worker_cores import PIN_ENV

HERE = Path(__file__).resolve().parent

# A probe started by a pinned worker inherits its one core: it first takes every core
# back, as a worker xdist starts has them.
PROBE = """
import json, os, sys
try:
    os.sched_setaffinity(0, range(os.cpu_count()))
except OSError:  # a cpuset keeps some cores from this process
    sys.exit(3)
from worker_cores import pin_this_worker
lone = os.environ.get("PROBE_LONE") == "1"
print(json.dumps([pin_this_worker(lone), sorted(os.sched_getaffinity(0))]))
"""


def pinned(**environment: str) -> tuple[list[int], list[int]]:
    """What ``pin_this_worker`` does in a fresh process with ``environment``, given every
    core: the cores it chose and those the process may then run on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    env.pop(PIN_ENV, None)
    env.update(environment, PYTHONPATH=str(HERE))
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env)
    if done.returncode == 3:
        pytest.skip("this process may not run on every core of the machine (a cpuset)")
    assert done.returncode == 0, done.stderr
    cores, allowed = json.loads(done.stdout)
    return cores, allowed


ALL_CORES = list(range(os.cpu_count() or 1))
needs_two_cores = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(ALL_CORES) < 2,
    reason="needs CPU affinity (Linux) and two cores to choose from",
)


HALVES = (share_of_cores(0, 2, ALL_CORES), share_of_cores(1, 2, ALL_CORES))


@needs_two_cores
def test_each_worker_gets_its_own_share() -> None:
    first, second = HALVES
    assert pinned(PYTEST_XDIST_WORKER="gw0", PYTEST_XDIST_WORKER_COUNT="2") == (first, first)
    assert pinned(PYTEST_XDIST_WORKER="gw1", PYTEST_XDIST_WORKER_COUNT="2") == (second, second)
    assert first
    assert second
    assert not set(first) & set(second)


@needs_two_cores
def test_a_lone_process_asked_to_gets_the_first_core() -> None:
    assert pinned(PROBE_LONE="1") == ([0], [0])
    # a worker asked as a lone process is still a worker
    assert pinned(PROBE_LONE="1", PYTEST_XDIST_WORKER="gw1", PYTEST_XDIST_WORKER_COUNT="2") == (
        HALVES[1],
        HALVES[1],
    )


@needs_two_cores
@pytest.mark.parametrize(
    "environment",
    [
        {},  # not an xdist worker
        {"PYTEST_XDIST_WORKER": "gw0", "PYTEST_XDIST_WORKER_COUNT": "2", PIN_ENV: "0"},
        {"PYTEST_XDIST_WORKER": "gw0", "PYTEST_XDIST_WORKER_COUNT": "99999"},
        {"PYTEST_XDIST_WORKER": "main", "PYTEST_XDIST_WORKER_COUNT": "2"},
    ],
    ids=["no-worker", "turned-off", "more-workers-than-cores", "odd-worker-id"],
)
def test_otherwise_every_core_stays_allowed(environment: dict[str, str]) -> None:
    assert pinned(**environment) == ([], ALL_CORES)


@given(
    cores=st.lists(st.integers(0, 255), min_size=1, max_size=64, unique=True).map(sorted),
    workers=st.integers(1, 70),
)
def test_the_shares_split_the_cores_into_runs_of_neighbours(cores: list[int], workers: int) -> None:
    shares = [share_of_cores(index, workers, cores) for index in range(workers)]
    if workers > len(cores):
        assert shares == [[]] * workers  # the scheduler shares them out better
        return
    assert [core for share in shares for core in share] == cores  # each once, in order
    sizes = {len(share) for share in shares}
    assert min(sizes) >= 1
    assert max(sizes) - min(sizes) <= 1
    assert share_of_cores(workers, workers, cores) == share_of_cores(-1, workers, cores) == []


# An inner run, given every core as a machine's fresh process has them (this suite's worker
# holds its own share); each of its processes writes the cores each of its threads may use.
AFFINITY_CONFTEST = """
import json, os, threading

def pytest_configure(config):
    os.sched_setaffinity(0, range(os.cpu_count()))

def pytest_sessionfinish(session):
    name = getattr(session.config, "workerinput", {}).get("workerid", "controller")
    tasks = os.listdir("/proc/self/task")
    threads = {repr(sorted(os.sched_getaffinity(int(t)))) for t in tasks}
    with open(f"cores-{name}.json", "w") as out:
        json.dump({"process": sorted(os.sched_getaffinity(0)), "threads": sorted(threads)}, out)
"""
AFFINITY_TESTS = """
import threading, time
import pytest

started_at_import = threading.Thread(target=time.sleep, args=(30,), daemon=True)
started_at_import.start()  # a thread that was running before the worker was held

@pytest.mark.privacy("deletion")
def test_a_check():
    pass

def test_not_a_check():
    pass
"""


def inner_cores(pytester: pytest.Pytester, *args: str) -> dict[str, dict[str, list[object]]]:
    pytester.makeconftest(AFFINITY_CONFTEST)
    pytester.makepyfile(test_inner=AFFINITY_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "xdist", "-n", "2", "-p", "no:cacheprovider", *args
    )
    assert result.ret == 0, result.stdout.str()
    return {
        path.stem.removeprefix("cores-"): json.loads(path.read_text())
        for path in pytester.path.glob("cores-*.json")
    }


def held(share: list[int]) -> dict[str, list[object]]:
    return {"process": share, "threads": [repr(share)]}


def unheld() -> dict[str, list[object]]:
    return {"process": ALL_CORES, "threads": [repr(ALL_CORES)]}


@needs_two_cores
def test_workers_that_collect_a_check_are_held_every_thread_of_them(
    pytester: pytest.Pytester,
) -> None:
    assert inner_cores(pytester) == {
        "controller": unheld(),  # it runs no test
        "gw0": held(HALVES[0]),
        "gw1": held(HALVES[1]),
    }


@needs_two_cores
@pytest.mark.parametrize(
    "args",
    [("--privacy-pin-workers=off",), ("-k", "not_a_check")],
    ids=["turned-off", "no-check-collected"],
)
def test_otherwise_no_worker_is_held(pytester: pytest.Pytester, args: tuple[str, ...]) -> None:
    cores = inner_cores(pytester, *args)
    assert cores == {"controller": unheld(), "gw0": unheld(), "gw1": unheld()}


def test_a_value_other_than_on_or_off_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner="def test_nothing(): pass")
    result = pytester.runpytest_inprocess("-p", "no:xdist", "--privacy-pin-workers=maybe")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--privacy-pin-workers (ini privacy_pin_workers): 'maybe' must be 'on' or 'off'*"]
    )
