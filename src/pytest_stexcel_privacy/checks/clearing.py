"""Deleting, once a run is judged, the accounts it made and left alive.

One module serves every example of a check, so without this each example
starts with every account of the examples before it: every campaign, notice
and scan then grows with them, which was most of a check's time. Clearing
gives each example about the module a fresh one would be, through the
adapter only. Nothing here is judged, and it runs only after the example's
verdict is in, so no verdict depends on it. A deletion that fails (or a
module that ever timed out) ends the clearing for the rest of the check:
the check then runs on a module that keeps what it could not delete, as
before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..harness.holder import PrivacyHarness


def clear_out(harness: PrivacyHarness, accounts: Iterable[Any], call: Callable[..., Any]) -> None:
    """``call("delete", account)`` for each account, while ``harness.clears_out``."""
    if not harness.clears_out or not harness.adapter.implements("delete"):
        return
    for account in accounts:
        try:
            call("delete", account)
        except Exception:
            harness.clears_out = False
            return
