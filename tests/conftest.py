"""Shared set-up for the plugin's own tests."""

from __future__ import annotations

# Import the suite's modules once in this process: pytester's in-process runs
# drop modules first imported inside them, and a second copy of hypothesis
# would no longer recognise the first copy's strategies. The HTTP clients go
# with them: an in-process run of the example imports requests and
# http.cookiejar, the snapshot drops them, and a later ``import requests``
# builds cookie jars on one copy of http.cookiejar and checks them against
# the other ("You can only merge into CookieJar"). numpy (the file scanner's)
# cannot be imported a second time in one process at all.
# The servers each in-process run starts for its own session (moto's S3 server, the
# SMTP sink) would otherwise be imported again by every run (moto: 0.13 s each time).
import gc
import http.cookiejar  # noqa: F401
import time
from collections.abc import Iterator

import aiosmtpd.controller  # noqa: F401
import hypothesis.strategies  # noqa: F401
import moto.moto_server.werkzeug_app
import moto.s3.responses  # noqa: F401
import numpy  # noqa: F401
import pytest
import requests  # noqa: F401

import pytest_stexcel_privacy.checks.suite
import pytest_stexcel_privacy.people.factories  # noqa: F401
from pytest_stexcel_privacy.observe import quiescence
from worker_cores import pin_this_worker

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    pin_this_worker()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After each test (its fixtures torn down), collect what it left and freeze the
    rest: the collector's full passes then look only at what later tests make, not at
    the whole heap of a process that imports every test's libraries (360,000 objects),
    which each pass walked again. Eight mutant tests in one process spent 3.7 to 3.9 s
    in the collector, 1.4 to 1.6 s so. What a test leaves alive it keeps for the rest
    of the run, as it did; only a cycle of it that dies later is not reclaimed. Our own
    tests only: the plugin leaves its user's collector alone."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def nothing_left_running_for_later_tests() -> Iterator[None]:
    """A test must not leave a child process or an abandoned adapter call behind: while
    either lasts, every mail settle in the process waits its full quiet window
    (quiescence.py), and the tests the worker runs next take up to three times as long.
    A forkserver one test left, and calls two others hung for 30 s, cost the suite a
    fifth of its time before this was checked. What was already there when the test
    began (a module-scoped fixture's browser) is its fixture's to end, not the test's."""
    had_child = bool(quiescence._child_processes())
    yield
    deadline = time.monotonic() + 5  # time for a child to be reaped, a released call to end
    while True:
        left = "" if had_child else quiescence._child_processes()
        if not quiescence.quiet_since(quiescence.calls_started()):
            left = left or "an adapter call is running"
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left, f"the test left this behind: {left}; end it before the test ends"
