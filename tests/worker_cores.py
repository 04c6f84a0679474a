"""Each xdist worker of this suite on cores of its own, whatever tests it runs.

The plugin holds a worker to its share of the cores once it collects a privacy
check (``pytest_stexcel_privacy.checks.worker_cores``, which says why). This
suite's tests are mostly other pytest runs (pytester's subprocesses, inner
``-n 2`` runs) that start from their worker and inherit its share, so every
worker is held from its start. With each worker held to one core, 16 mutant
tests on two workers ran 1.18x faster and spent 6 to 10 % less CPU
(``benchmarks/worker_cores.py``, two alternating pairs); the whole suite 1.02x,
1.10x and 1.11x in three pairs.

Set ``STEXCEL_TESTS_PIN_WORKERS=0`` to leave the workers to the scheduler (the
benchmark's baseline).
"""

from __future__ import annotations

import os

from pytest_stexcel_privacy.checks.worker_cores import hold_worker

PIN_ENV = "STEXCEL_TESTS_PIN_WORKERS"


def pin_this_worker(lone: bool = False) -> list[int]:
    """Hold this xdist worker ``gwN`` to the Nth share of the cores it may use; with
    ``lone``, a process that is no worker to the first core (``benchmarks/main_job.py
    --pin``; the caller knows it is not xdist's controller, which runs no test).

    Returns the cores it was held to, or []: not a worker, pinning turned off or not
    possible here, or more workers than cores, which the scheduler shares out better.
    """
    if os.environ.get(PIN_ENV) == "0" or not hasattr(os, "sched_getaffinity"):
        return []
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not worker and lone:  # the first of as many shares as cores: the first core
        return hold_worker(0, len(os.sched_getaffinity(0)))
    if worker.startswith("gw") and worker[2:].isdigit() and count.isdigit():
        return hold_worker(int(worker[2:]), int(count))
    return []
