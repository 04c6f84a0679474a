"""Each xdist worker of this suite on a core of its own.

A privacy check is a relay of threads: the check's, the adapter call's, the
in-process sinks' (SMTP, HTTP, S3), handing the GIL to each other hundreds of
times a second. Left to the scheduler, the threads of two workers wander over
both cores, and every hand-off that wakes a thread on the other core costs a
cross-core wake-up (dearest under a hypervisor) and the other worker its cache.
With each worker held to one core, 16 mutant tests on two workers ran 1.18x
faster and spent 6 to 10 % less CPU (``benchmarks/worker_cores.py``, two
alternating pairs); the whole suite, whose other tests also start processes
(which then share their worker's core), 1.02x, 1.10x and 1.11x in three pairs.

The servers the tests talk to (PostgreSQL, MariaDB, Redis) are other processes
and keep every core. Set ``STEXCEL_TESTS_PIN_WORKERS=0`` to leave the workers
to the scheduler (the benchmark's baseline).
"""

from __future__ import annotations

import os

PIN_ENV = "STEXCEL_TESTS_PIN_WORKERS"


def pin_this_worker(lone: bool = False) -> int | None:
    """Hold this xdist worker to one of the cores it may use, worker ``gwN`` to the Nth;
    with ``lone``, a process that is no worker to the first (``benchmarks/main_job.py
    --pin``; the caller knows it is not xdist's controller, which runs no test).

    Returns the core it was held to, or None: not a worker, pinning turned off or not
    possible here, or more workers than cores, which the scheduler shares out better.
    """
    if os.environ.get(PIN_ENV) == "0" or not hasattr(os, "sched_setaffinity"):
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    cores = sorted(os.sched_getaffinity(0))
    if not worker and lone:
        index = 0
    elif worker.startswith("gw") and worker[2:].isdigit() and count.isdigit():
        if int(count) > len(cores):
            return None
        index = int(worker[2:])
    else:
        return None
    core = cores[index % len(cores)]
    os.sched_setaffinity(0, {core})
    return core
