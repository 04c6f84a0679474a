"""Skip-or-fail for tests that need something outside Python (a browser, a server).

On a developer's machine a missing tool skips the test with a reason saying
what to install. Under ``CI=true`` the same absence fails: CI must provide
everything, and a silently skipped check is not a passed one.
"""

from __future__ import annotations

import os

import pytest


def require(available: bool, what: str, how: str) -> None:
    if available:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is missing under CI=true; {how}", pytrace=False)
    pytest.skip(f"{what} is not available here ({how})")
