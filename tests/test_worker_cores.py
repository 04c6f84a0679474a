"""While an xdist worker runs a privacy check its threads keep to a share of the cores of
their own (``checks/worker_cores.py``), only when that is possible and wanted, and get
every core back after; this suite's workers are held from their start
(``tests/worker_cores.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_stexcel_privacy.checks.worker_cores import (
    CORES_INPUT,
    by_physical_core,
    share_of_cores,
)
from worker_cores import PIN_ENV

HERE = Path(__file__).resolve().parent

# A probe started by a pinned worker inherits its one core: it first takes back every core
# it may use, as a process xdist starts has them (a cpuset may keep some from it).
WIDEN = "import os; os.sched_setaffinity(0, range(os.cpu_count()))"
PROBE = f"""
import json, os, sys
{WIDEN}
from worker_cores import pin_this_worker
lone = os.environ.get("PROBE_LONE") == "1"
print(json.dumps([pin_this_worker(lone), sorted(os.sched_getaffinity(0))]))
"""


def probe(source: str, **environment: str) -> object:
    """What ``source`` prints (JSON), run in a fresh process with ``environment``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    env.pop(PIN_ENV, None)
    env.update(environment, PYTHONPATH=str(HERE))
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@cache
def usable() -> list[int]:
    """The cores a process of this machine may run on (a cpuset may keep some from it)."""
    found = probe(f"{WIDEN}; import json; print(json.dumps(sorted(os.sched_getaffinity(0))))")
    assert isinstance(found, list)
    return found


def halves() -> tuple[list[int], list[int]]:
    cores = by_physical_core(usable())
    return share_of_cores(0, 2, cores), share_of_cores(1, 2, cores)


def pinned(**environment: str) -> tuple[list[int], list[int]]:
    """What ``pin_this_worker`` does in a fresh process with ``environment``, given every
    core: the cores it chose and those the process may then run on."""
    cores, allowed = probe(PROBE, **environment)  # type: ignore[misc]
    return cores, allowed


needs_two_cores = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2,
    reason="needs CPU affinity (Linux) and two cores to choose from",
)


@pytest.fixture
def two_cores() -> None:
    if len(usable()) < 2:
        pytest.skip("a cpuset leaves this machine's processes fewer than two cores")


@needs_two_cores
@pytest.mark.usefixtures("two_cores")
def test_each_worker_gets_its_own_share() -> None:
    first, second = halves()
    assert pinned(PYTEST_XDIST_WORKER="gw0", PYTEST_XDIST_WORKER_COUNT="2") == (first, first)
    assert pinned(PYTEST_XDIST_WORKER="gw1", PYTEST_XDIST_WORKER_COUNT="2") == (second, second)
    assert first
    assert second
    assert not set(first) & set(second)


@needs_two_cores
@pytest.mark.usefixtures("two_cores")
def test_a_lone_process_asked_to_gets_the_first_core() -> None:
    first = usable()[:1]
    assert pinned(PROBE_LONE="1") == (first, first)
    # a worker asked as a lone process is still a worker
    second = halves()[1]
    assert pinned(PROBE_LONE="1", PYTEST_XDIST_WORKER="gw1", PYTEST_XDIST_WORKER_COUNT="2") == (
        second,
        second,
    )


@needs_two_cores
@pytest.mark.usefixtures("two_cores")
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
    assert pinned(**environment) == ([], usable())


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


def test_hardware_threads_of_one_core_stay_in_one_share(tmp_path: Path) -> None:
    """Linux often numbers a core's hardware threads apart (0 and 2, 1 and 3): split in
    order, each worker would get half of both physical cores."""
    from pytest_stexcel_privacy.checks import worker_cores

    for core, siblings in {0: "0,2", 1: "1,3", 2: "0,2", 3: "1-3"}.items():
        (tmp_path / f"cpu{core}").mkdir()
        (tmp_path / f"cpu{core}" / "siblings").write_text(siblings + "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(worker_cores, "SIBLINGS", str(tmp_path / "cpu{}" / "siblings"))
        ordered = by_physical_core([0, 1, 2, 3, 4])  # cpu4: the kernel does not say
    assert ordered == [0, 2, 1, 3, 4]
    assert share_of_cores(0, 2, ordered) == [0, 2, 1]


@needs_two_cores
@pytest.mark.usefixtures("two_cores")
def test_a_worker_narrowed_already_gets_its_share_of_the_controllers_cores() -> None:
    """Split again, the first half of a worker a conftest held to its half would be a
    quarter of the cores, or none on two."""
    first = halves()[0]
    source = f"""
{WIDEN}
import json
from pytest_stexcel_privacy.checks.worker_cores import share_for_worker
controllers = sorted(os.sched_getaffinity(0))
os.sched_setaffinity(0, {first!r})
worker = {{"workerid": "gw0", "workercount": "2"}}
print(json.dumps([
    share_for_worker({{**worker, {CORES_INPUT!r}: controllers}}),
    share_for_worker(worker),
]))
"""
    given_theirs, own_only = probe(source)  # type: ignore[misc]
    assert given_theirs == first
    assert own_only == share_of_cores(0, 2, by_physical_core(first))


# An inner run: each test writes, for its worker, the cores each thread of the process may
# use (a thread started before the check too), and each process does at its end.
AFFINITY_CONFTEST = """
import json, os

def pytest_configure(config):
    os.sched_setaffinity(0, range(os.cpu_count()))  # every core, as a fresh process has

def cores_of_threads():
    found = set()
    for task in os.listdir("/proc/self/task"):
        try:
            found.add(repr(sorted(os.sched_getaffinity(int(task)))))
        except ProcessLookupError:  # a thread that ended meanwhile
            pass
    return sorted(found)

def write(name, worker):
    with open(f"{name}-{worker}.json", "w") as out:
        json.dump(cores_of_threads(), out)

def pytest_sessionfinish(session):
    write("end", getattr(session.config, "workerinput", {}).get("workerid", "controller"))
"""
AFFINITY_TESTS = """
import threading, time
import pytest
from conftest import write

started_at_import = threading.Thread(target=time.sleep, args=(30,), daemon=True)
started_at_import.start()  # a thread that was running before the check began

@pytest.mark.privacy("deletion")
def test_a_check(worker_id):
    write("check", worker_id)

def test_not_a_check(worker_id):
    write("plain", worker_id)
"""


def inner_cores(pytester: pytest.Pytester, *args: str) -> dict[str, list[str]]:
    """Every worker runs every test (``--dist each``): what each file recorded."""
    pytester.makeconftest(AFFINITY_CONFTEST)
    pytester.makepyfile(test_inner=AFFINITY_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "xdist", "-n", "2", "--dist", "each", "-p", "no:cacheprovider", *args
    )
    assert result.ret == 0, result.stdout.str()
    return {path.stem: json.loads(path.read_text()) for path in pytester.path.glob("*.json")}


@needs_two_cores
@pytest.mark.usefixtures("two_cores")
def test_a_worker_keeps_to_its_share_while_it_runs_a_check_and_only_then(
    pytester: pytest.Pytester,
) -> None:
    first, second = halves()
    every = [repr(usable())]
    assert inner_cores(pytester) == {
        "check-gw0": [repr(first)],  # every thread, the one started at import too
        "check-gw1": [repr(second)],
        "plain-gw0": every,
        "plain-gw1": every,
        "end-gw0": every,
        "end-gw1": every,
        "end-controller": every,  # it runs no test
    }


@needs_two_cores
@pytest.mark.usefixtures("two_cores")
@pytest.mark.parametrize(
    "args",
    [("--privacy-pin-workers=off",), ("-o", "privacy_pin_workers=false")],
    ids=["option", "ini"],
)
def test_turned_off_no_worker_is_held(pytester: pytest.Pytester, args: tuple[str, ...]) -> None:
    cores = inner_cores(pytester, *args)
    assert set(cores) == {f"{kind}-gw{n}" for kind in ("check", "plain", "end") for n in (0, 1)} | {
        "end-controller"
    }
    assert set(map(tuple, cores.values())) == {(repr(usable()),)}


def test_a_value_other_than_on_or_off_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner="def test_nothing(): pass")
    result = pytester.runpytest_inprocess("-p", "no:xdist", "--privacy-pin-workers=maybe")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--privacy-pin-workers (ini privacy_pin_workers): 'maybe' must be 'on' or 'off'*"]
    )
