"""Threads the module starts during a check, so the verdict waits for what they send.

A thread that connects a moment after the adapter call returns would be judged
before it acts, and act after the guard has stopped. So the guard notes each
thread started by the thread that started the guard, or by a thread noted
before (the adapter call's own thread, a pool the module creates), and the
verdict waits for them. A thread still running when the wait is over is
reported: what it sends later cannot be judged.

Threads started by a thread that was already running when the check began
(a local server's handler threads, a worker pool the adapter built earlier)
belong to that machinery and are not waited for; pre-existing threads are
watched by the audit hook like any other while the guard runs.
"""

from __future__ import annotations

import threading
import time
import weakref


class ModuleThreads:
    def __init__(self) -> None:
        self._origin: threading.Thread | None = None
        self._noted: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self._reported: set[int] = set()
        self._lock = threading.Lock()

    def begin(self) -> None:
        self._origin = threading.current_thread()

    def note_start(self, thread: threading.Thread) -> None:
        """Called as ``thread`` is started: note it when the module started it."""
        starter = threading.current_thread()
        with self._lock:
            if starter is self._origin or starter in self._noted:
                self._noted.add(thread)

    def still_running(self, deadline: float) -> list[str]:
        """Wait until ``deadline`` (monotonic) for the noted threads; name those still
        running and not named before."""
        with self._lock:
            noted = list(self._noted)
        for thread in noted:
            if thread is not threading.current_thread() and thread.ident is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        running = []
        for thread in noted:
            if thread.is_alive() and id(thread) not in self._reported:
                self._reported.add(id(thread))
                running.append(thread.name)
        return running
