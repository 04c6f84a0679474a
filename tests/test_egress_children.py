"""Processes the module starts: guarded when they are Python, a blind spot otherwise.

Every child aims at a loopback post the guard is told is a foreign host, so
whatever the guard misses still cannot leave the machine.
"""

from __future__ import annotations

import multiprocessing
import os
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from availability import require
from outside_post import OutsidePost, outside_post
from pytest_stexcel_privacy.observe.egress import EgressGuard, blind_spots, guarded


@pytest.fixture
def post() -> Iterator[OutsidePost]:
    with outside_post() as post:
        yield post


def connect_quietly(address: tuple[str, int]) -> None:
    """What the child does: try to reach the post, and carry on when refused."""
    try:
        with socket.create_connection(address, timeout=2):
            pass
    except OSError:
        pass


PROBE = (
    "import socket\n"
    "try:\n"
    "    socket.create_connection(({host!r}, {port}), timeout=2).close()\n"
    "except OSError:\n"
    "    pass\n"
)


def refused_in_a_child(guard: EgressGuard) -> list[tuple[str, str, int | None]]:
    """Connections a child process reported refused, once the children are done."""
    guard.settle()
    return [(e.kind, e.host, e.port) for e in guard.events if e.pid and e.kind == "connect"]


@pytest.fixture
def multiprocessing_helpers_stopped() -> Iterator[None]:
    """Stops the helper processes the spawn and forkserver methods start (the forkserver,
    the resource tracker) when the test ends. They would live on as children of this
    worker, and while a process has a child, every mail settle in it waits its full quiet
    window (quiescence.py): the checks of every later test on the worker ran slower. Their
    ``_stop`` is private (CPython's own tests call it); on a Python without it, the
    autouse check in conftest.py reports what stayed."""
    yield
    from multiprocessing import forkserver, resource_tracker

    for helper in (
        getattr(forkserver, "_forkserver", None),
        getattr(resource_tracker, "_resource_tracker", None),
    ):
        stop = getattr(helper, "_stop", None)
        if callable(stop):
            stop()


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
@pytest.mark.usefixtures("multiprocessing_helpers_stopped")
def test_a_multiprocessing_child_is_guarded_and_reports(post: OutsidePost, method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    context = multiprocessing.get_context(method)
    with guarded(post.endpoints) as guard:
        child = context.Process(target=connect_quietly, args=(post.tcp_address,))
        child.start()
        child.join(30)
        assert refused_in_a_child(guard) == [("connect", *post.tcp_address)]
        assert blind_spots(guard.events) == []
    assert post.arrivals() == []


def test_another_python_run_through_os_system_is_guarded(post: OutsidePost) -> None:
    code = PROBE.format(host=post.tcp_address[0], port=post.tcp_address[1])
    with guarded(post.endpoints) as guard:
        os.system(f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}")
        assert refused_in_a_child(guard) == [("connect", *post.tcp_address)]
        assert blind_spots(guard.events) == []
    assert post.arrivals() == []


def test_a_python_script_run_through_subprocess_is_guarded(post: OutsidePost) -> None:
    code = PROBE.format(host=post.tcp_address[0], port=post.tcp_address[1])
    with guarded(post.endpoints) as guard:
        subprocess.run([sys.executable, "-c", code], check=True)
        assert refused_in_a_child(guard) == [("connect", *post.tcp_address)]
        assert blind_spots(guard.events) == []
    assert post.arrivals() == []


def test_a_python_started_without_the_environment_is_a_blind_spot(post: OutsidePost) -> None:
    code = PROBE.format(host=post.tcp_address[0], port=post.tcp_address[1])
    with guarded(post.endpoints) as guard:
        subprocess.run([sys.executable, "-I", "-c", code], check=True)
        guard.settle(grace=0.2)
    spots = blind_spots(guard.events)
    assert len(spots) == 1
    assert spots[0].startswith(f"cannot see this process's network: {sys.executable} ")
    assert len(post.arrivals()) == 1  # why it is a blind spot: the child got through


def test_curl_is_a_blind_spot_unless_allow_listed(post: OutsidePost) -> None:
    require(shutil.which("curl") is not None, "curl", "install curl")
    url = f"http://{post.tcp_address[0]}:{post.tcp_address[1]}/?email=ada"
    with guarded(post.endpoints) as guard:
        subprocess.run(["curl", "-s", "--max-time", "1", url], check=False)
        guard.settle(grace=0.2)
    assert blind_spots(guard.events) == [
        f"cannot see this process's network: curl (started by subprocess.Popen: curl -s "
        f"--max-time 1 '{url}')"
    ]
    assert blind_spots(guard.events, allowed=["curl"]) == []
    assert blind_spots(guard.events, allowed=[str(shutil.which("curl"))]) == []


def test_a_shell_command_is_judged_by_the_program_it_runs() -> None:
    with guarded() as guard:
        os.system("true")
        subprocess.run("true && true", shell=True, check=True)
        guard.settle(grace=0.1)
    assert blind_spots(guard.events, allowed=["true"]) == [
        "cannot see this process's network: /bin/sh (started by subprocess.Popen: "
        "/bin/sh -c 'true && true')"
    ]
    assert blind_spots(guard.events, allowed=["true", "sh"]) == []
