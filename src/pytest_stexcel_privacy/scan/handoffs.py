"""Quicker hand-offs of the GIL while a scan's reading thread and its searching thread
work side by side.

A thread whose socket read returns needs the GIL back, and the thread searching holds
it until the interpreter's switch interval (5 ms unless set) asks it to let go: a
Redis scan's reader waits so after each of its thousands of replies, and the searcher
then waits for the reader. With 1 ms, a 300,000-key scan took 1.17 s against 1.29 s
(medians of six, alternating; ``benchmarks/README.md``). The interval is the process's,
so it is lowered only while such a scan runs: the first to start lowers it, the last to
end puts back what was there, unless someone else changed it meanwhile.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SCAN_SWITCH_INTERVAL = 0.001  # seconds

_lock = threading.Lock()
_running = 0
_before: float | None = None  # the interval to put back; None: it was not lowered
_ours = 0.0  # the interval as the interpreter keeps it once lowered (whole microseconds)


@contextmanager
def quick_handoffs() -> Iterator[None]:
    global _running, _before, _ours
    with _lock:
        if _running == 0:
            before = sys.getswitchinterval()
            _before = before if before > SCAN_SWITCH_INTERVAL else None
            if _before is not None:
                sys.setswitchinterval(SCAN_SWITCH_INTERVAL)
                _ours = sys.getswitchinterval()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _before is not None and sys.getswitchinterval() == _ours:
                sys.setswitchinterval(_before)
