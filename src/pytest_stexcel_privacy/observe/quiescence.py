"""Whether anything in this process could still send mail, so a check need not wait for it.

The sink keeps a message before it answers the sender's DATA, so mail the module
sends inside an adapter call has arrived by the time the call returns. Only code
still running can send more: a thread (the module's, or one finishing), a child
process, an SMTP session still open. When the census finds none of them, the
mail settle returns at once; otherwise it waits for its quiet window as before.

What the census cannot see is a sender outside this process tree (a queue
worker started elsewhere). The sink watches for one: a message arriving after
the census found the process idle, with no adapter call run since, proves it
exists, and from then on that sink always waits for the quiet window.
"""

from __future__ import annotations

import os
import socketserver
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_baseline: weakref.WeakSet[threading.Thread] = weakref.WeakSet(threading.enumerate())
_owned: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
_owners: weakref.WeakSet[object] = weakref.WeakSet()
_calls_running = 0
_calls_started = 0

# How often a suite server's thread looks for a stop request: the standard library's (and
# werkzeug's) 0.5 s made every session that used one wait that long at its end.
STOP_POLL_SECONDS = 0.02


@contextmanager
def suite_threads(*owners: object) -> Iterator[None]:
    """Count the threads started inside the block, and those ``owners`` (servers of the
    suite's) start to serve a request, as the suite's own: they never send mail."""
    before = set(threading.enumerate())
    own_requests_of(*owners)
    yield
    with _lock:
        _owned.update(set(threading.enumerate()) - before)


def serve_in_background(server: socketserver.BaseServer, name: str) -> threading.Thread:
    """Serve ``server`` on a daemon thread that, with the threads it starts for requests,
    is the suite's own; it stops within ``STOP_POLL_SECONDS`` of ``server.shutdown()``."""
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": STOP_POLL_SECONDS},
        name=name,
        daemon=True,
    )
    with suite_threads(server):
        thread.start()
    return thread


def own_requests_of(*servers: object) -> None:
    """The threads ``servers`` start to serve a request are the suite's."""
    with _lock:
        _owners.update(s for s in servers if s is not None)


@contextmanager
def adapter_call() -> Iterator[None]:
    """Mark an adapter call as running: the module may send while it does."""
    global _calls_running, _calls_started
    with _lock:
        _calls_running += 1
        _calls_started += 1
    try:
        yield
    finally:
        with _lock:
            _calls_running -= 1


def quiet_since(calls: int) -> bool:
    """No adapter call is running, and none started since ``calls_started()`` was ``calls``."""
    with _lock:
        return _calls_running == 0 and _calls_started == calls


def calls_started() -> int:
    with _lock:
        return _calls_started


def busy(wait: float, open_sessions: int = 0) -> str:
    """Why more mail may still come ("" when nothing in the process can send any).
    Threads that are finishing get up to ``wait`` seconds, in all, to end."""
    return _why_busy(time.monotonic() + wait, open_sessions)


def _why_busy(deadline: float, open_sessions: int) -> str:
    with _lock:
        if _calls_running:
            return "an adapter call is running"
    if open_sessions:
        return "an SMTP session is open"
    children = _child_processes()
    if children:
        return children
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is current or _is_the_suites(thread):
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            return f"thread {thread.name!r} is running"
    return ""


def _is_the_suites(thread: threading.Thread) -> bool:
    with _lock:
        if thread in _baseline or thread in _owned:
            return True
        target = getattr(thread, "_target", None)
        return getattr(target, "__self__", None) in _owners


def _child_processes() -> str:
    """ "" when this process has no child; a zombie counts, as it may not be reaped yet."""
    try:
        waitid = os.waitid
    except AttributeError:
        return "child processes cannot be listed on this platform"
    try:
        waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return ""
    except OSError as exc:
        return f"child processes cannot be listed: {exc}"
    return "a child process is alive"
