"""The suite's xdist workers each hold a core of their own (``worker_cores.py``), and only
when that is possible and wanted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def pinned(**environment: str) -> tuple[int | None, list[int]]:
    """What ``pin_this_worker`` does in a fresh process with ``environment``, given every
    core: the core it chose and the cores the process may then run on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    env.pop(PIN_ENV, None)
    env.update(environment, PYTHONPATH=str(HERE))
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env)
    if done.returncode == 3:
        pytest.skip("this process may not run on every core of the machine (a cpuset)")
    assert done.returncode == 0, done.stderr
    core, allowed = json.loads(done.stdout)
    return core, allowed


ALL_CORES = list(range(os.cpu_count() or 1))
needs_two_cores = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(ALL_CORES) < 2,
    reason="needs CPU affinity (Linux) and two cores to choose from",
)


@needs_two_cores
def test_each_worker_gets_its_own_core() -> None:
    assert pinned(PYTEST_XDIST_WORKER="gw0", PYTEST_XDIST_WORKER_COUNT="2") == (0, [0])
    assert pinned(PYTEST_XDIST_WORKER="gw1", PYTEST_XDIST_WORKER_COUNT="2") == (1, [1])


@needs_two_cores
def test_a_lone_process_asked_to_gets_the_first_core() -> None:
    assert pinned(PROBE_LONE="1") == (0, [0])
    # a worker asked as a lone process is still a worker
    assert pinned(PROBE_LONE="1", PYTEST_XDIST_WORKER="gw1", PYTEST_XDIST_WORKER_COUNT="2") == (
        1,
        [1],
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
    assert pinned(**environment) == (None, ALL_CORES)
