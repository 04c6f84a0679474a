"""Each xdist worker that runs privacy checks on a share of the cores of its own.

A check is a relay of threads in one process: the check's, the adapter call's,
the in-process sinks' (SMTP, HTTP, S3), handing the GIL to each other
thousands of times a second. Left to the scheduler, two workers' threads
wander over every core, and a hand-off that wakes a thread on another core
costs a cross-core wake-up (dearest under a hypervisor) and the other worker
its cache. Held to cores of its own, each worker's relay stays on them:
``benchmarks/main_job.py`` measures the same two-worker run with and without.

Only xdist workers are held, and only once they have collected a privacy
check: a run of one process, xdist's controller and a session with no check
keep every core. With more workers than cores the scheduler shares them out
better, so nothing is held. The servers the module talks to (PostgreSQL,
Redis ...) are other processes and keep every core; the module's own child
processes inherit their worker's share. ``--privacy-pin-workers=off`` turns
it off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

TASKS = "/proc/self/task"


def share_of_cores(index: int, workers: int, cores: Sequence[int]) -> list[int]:
    """The cores worker ``index`` of ``workers`` gets: ``cores`` split into as many
    runs of neighbours as there are workers, the first ones a core longer when they do
    not split evenly; [] with more workers than cores."""
    if not 0 <= index < workers or workers > len(cores):
        return []
    size, longer = divmod(len(cores), workers)
    start = index * size + min(index, longer)
    return list(cores[start : start + size + (index < longer)])


def hold_worker(index: int, workers: int) -> list[int]:
    """Hold every thread of this process, and so every thread it starts later, to this
    worker's share of the cores it may use now. Returns the share, or [] when nothing
    was held: no share (more workers than cores), or no way to hold threads here."""
    if not hasattr(os, "sched_setaffinity") or not os.path.isdir(TASKS):
        return []
    share = share_of_cores(index, workers, sorted(os.sched_getaffinity(0)))
    if not share:
        return []
    try:
        os.sched_setaffinity(0, share)  # this thread first: those it starts inherit it
    except OSError:  # e.g. a cpuset that changed since it was read
        return []
    for task in os.listdir(TASKS):
        try:
            os.sched_setaffinity(int(task), share)
        except (ValueError, OSError):  # a thread that ended meanwhile
            continue
    return share


def hold_xdist_worker(workerinput: Mapping[str, object]) -> list[int]:
    """``hold_worker`` for the xdist worker ``workerinput`` describes (``gwN`` of
    ``workercount``); [] for a worker id of another form."""
    worker, count = str(workerinput.get("workerid", "")), str(workerinput.get("workercount", ""))
    if not (worker.startswith("gw") and worker[2:].isdigit() and count.isdigit()):
        return []
    return hold_worker(int(worker[2:]), int(count))
