"""While an xdist worker runs a privacy check, its threads keep to cores of their own.

A check is a relay of threads in one process: the check's, the adapter call's,
the in-process sinks' (SMTP, HTTP, S3), handing the GIL to each other
thousands of times a second. Left to the scheduler, two workers' threads
wander over every core, and a hand-off that wakes a thread on another core
costs a cross-core wake-up (dearest under a hypervisor) and the other worker
its cache. Held to cores of its own, each worker's relay stays on them:
``benchmarks/main_job.py`` measures the same two-worker run with and without.

Each worker gets a share of the cores xdist's controller may use: the cores
ordered so that a physical core's hardware threads lie together, then split
into as many runs as there are workers. Every thread of the worker is held
to its share from a check's set-up to its teardown, and given back the cores
it had after: the worker's other tests, and what a check left running
(servers a session fixture started), keep every core. Nothing is held in a
run of one process, in xdist's controller, with more workers than cores (the
scheduler shares them out better), for a worker xdist started in place of a
crashed one, or where threads cannot be held. ``--privacy-pin-workers=off``
turns it off.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress

TASKS = "/proc/self/task"
SIBLINGS = "/sys/devices/system/cpu/cpu{}/topology/thread_siblings_list"
# The controller's cores, handed to each worker: shares of the worker's own would narrow
# twice where something (a conftest, taskset) already narrowed it.
CORES_INPUT = "stexcel_privacy_cores"


def usable_cores() -> list[int]:
    """The cores this process may run on, or [] where that cannot be asked."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return []


def share_of_cores(index: int, workers: int, cores: Sequence[int]) -> list[int]:
    """The cores worker ``index`` of ``workers`` gets: ``cores`` split into as many
    runs of neighbours as there are workers, the first ones a core longer when they do
    not split evenly; [] with more workers than cores."""
    if not 0 <= index < workers or workers > len(cores):
        return []
    size, longer = divmod(len(cores), workers)
    start = index * size + min(index, longer)
    return list(cores[start : start + size + (index < longer)])


def _siblings(core: int) -> int:
    """The lowest-numbered hardware thread of ``core``'s physical core (``core`` itself
    where the kernel does not say)."""
    try:
        with open(SIBLINGS.format(core)) as listing:
            first = listing.read().strip().replace("-", ",").split(",")[0]
        return int(first)
    except (OSError, ValueError):
        return core


def by_physical_core(cores: Iterable[int]) -> list[int]:
    """``cores`` ordered so the hardware threads of one physical core lie together (Linux
    often numbers them apart: 0 and 2 on one core, 1 and 3 on the other)."""
    return sorted(cores, key=lambda core: (_siblings(core), core))


def share_for_worker(workerinput: Mapping[str, object]) -> list[int]:
    """The share of the xdist worker ``workerinput`` describes (``gwN`` of ``workercount``,
    the controller's cores), within the cores the worker may use; [] if none."""
    worker, count = str(workerinput.get("workerid", "")), str(workerinput.get("workercount", ""))
    if not (worker.startswith("gw") and worker[2:].isdigit() and count.isdigit()):
        return []
    own = usable_cores()
    given = workerinput.get(CORES_INPUT)
    cores = [c for c in given if isinstance(c, int)] if isinstance(given, list) else own
    share = share_of_cores(int(worker[2:]), int(count), by_physical_core(cores))
    return sorted(set(share) & set(own))


def hold_threads(cores: Iterable[int]) -> bool:
    """Hold every thread of this process to ``cores``, and so every thread they start;
    False where that could not be done (no ``/proc/self/task``, a refused mask)."""
    cores = set(cores)
    if not cores or not hasattr(os, "sched_setaffinity") or not os.path.isdir(TASKS):
        return False
    try:
        os.sched_setaffinity(0, cores)  # this thread first: those it starts inherit it
        done: set[str] = set()
        while tasks := set(os.listdir(TASKS)) - done:  # again: one may have started another
            for task in tasks:
                with suppress(ProcessLookupError):  # a thread that ended meanwhile
                    os.sched_setaffinity(int(task), cores)
            done |= tasks
    except OSError:  # e.g. a cpuset that changed since it was read
        return False
    return True


@contextmanager
def held(share: Sequence[int]) -> Iterator[None]:
    """Every thread of this process held to ``share`` inside the block (nothing for an
    empty one), and given back the cores this thread had before it at its end."""
    before = usable_cores()
    holding = bool(share) and bool(before) and hold_threads(share)
    try:
        yield
    finally:
        if holding:
            hold_threads(before)
