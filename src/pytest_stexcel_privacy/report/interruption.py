"""A run stopped from outside (a CI job's timeout sends SIGTERM) still writes its report.

pytest turns Ctrl-C (SIGINT) into an interrupted session, whose report the
collector writes marked incomplete. SIGTERM would kill the process with no
report at all, so while the run lasts it is turned into the same kind of
interruption.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM; pytest ends the session as interrupted."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated("terminated by SIGTERM (e.g. a CI job's timeout)")


def stop_on_sigterm() -> Callable[[], None]:
    """Treat SIGTERM as an interruption until the returned function restores the old handler."""
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (pytest embedded in another program): leave it
        return lambda: None

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore
