"""Each xdist worker of this suite on cores of its own, whatever tests it runs.

The plugin holds a worker to its share of the cores while it runs a privacy
check (``pytest_stexcel_privacy.checks.worker_cores``, which says why). This
suite's tests are mostly other pytest runs (pytester's subprocesses, inner
``-n 2`` runs) that start from their worker and inherit its share, so every
worker is held from its start, for good. With each worker held to one core, 16 mutant
tests on two workers ran 1.18x faster and spent 6 to 10 % less CPU
(``benchmarks/worker_cores.py``, two alternating pairs); the whole suite 1.02x,
1.10x and 1.11x in three pairs.

Set ``STEXCEL_TESTS_PIN_WORKERS=0`` to leave the workers to the scheduler (the
benchmark's baseline).
"""

from __future__ import annotations

import os

from pytest_stexcel_privacy.checks.worker_cores import (
    by_physical_core,
    hold_threads,
    share_of_cores,
    usable_cores,
)

PIN_ENV = "STEXCEL_TESTS_PIN_WORKERS"


def pin_this_worker(lone: bool = False) -> list[int]:
    """Hold this xdist worker ``gwN`` to the Nth share of the cores it may use, for good;
    with ``lone``, a process that is no worker to the first core (``benchmarks/main_job.py
    --pin``; the caller knows it is not xdist's controller, which runs no test).

    Returns the cores it was held to, or []: not a worker, pinning turned off or not
    possible here, or more workers than cores, which the scheduler shares out better.
    """
    cores = usable_cores()
    if os.environ.get(PIN_ENV) == "0" or not cores:
        return []
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not worker and lone:
        share = cores[:1]
    elif worker.startswith("gw") and worker[2:].isdigit() and count.isdigit():
        share = share_of_cores(int(worker[2:]), int(count), by_physical_core(cores))
    else:
        return []
    return share if hold_threads(share) else []
