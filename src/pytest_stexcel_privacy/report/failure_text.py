"""How a failed privacy check reads in pytest's terminal: the finding first.

A violation's message already says the clause, what broke, where (the
evidence) and the shortest sequence; an adapter error names the method and
what the module raised. Pytest would wrap either in the plugin's and
hypothesis's frames and print a chained error twice ("During handling of the
above exception ..."). So a check's failure is shown as that message, the
notes hypothesis added (its falsifying example), and for an exception of the
module only the module's own frames, once. The same error repeated by every
check (a missing ``privacy_adapter`` fixture) is shown in full once and named
after that. ``-vv`` or ``--tb=long`` / ``--tb=native`` bring back pytest's
full traceback.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import _pytest
import pluggy
import pytest

from .. import errors
from ..errors import PrivacyPluginError
from ..findings.outcomes import PrivacyViolation, has_violation
from ..harness.recording import Crash, RenderedFailure

SHOWN_KEY = pytest.StashKey[dict[str, str]]()  # full text of a failure -> the check shown with it
# Frames of these are the machinery around the module, never the module's own.
_MACHINERY = tuple(
    str(Path(module.__file__).resolve().parent)
    for module in (errors, _pytest, pluggy)  # errors: this package's root
    if module.__file__
)
_MACHINERY_NAMES = ("/hypothesis/", "/concurrent/futures/", "/threading.py")


def wants_internals(config: pytest.Config) -> bool:
    """Whether the user asked for pytest's whole traceback."""
    return int(config.getoption("verbose") or 0) >= 2 or config.getoption("tbstyle", "auto") in (
        "long",
        "native",
    )


def failure_text(
    report: pytest.TestReport, error: BaseException, shown: dict[str, str]
) -> RenderedFailure | None:
    """``report``'s failure as the check's finding, or None to leave pytest's own (an
    exception that is neither a violation nor one the plugin raised on purpose)."""
    if has_violation(error):
        text = "\n".join(str(v) for v in _violations(error))
    elif isinstance(error, PrivacyPluginError):
        text = _error_text(error)
    elif isinstance(error, pytest.fail.Exception) and not error.pytrace:
        text = str(error.msg)
    else:
        return None
    text += _notes(error)
    first = shown.setdefault(text, report.nodeid)
    if first != report.nodeid:
        text = f"{text.splitlines()[0]}\n(the same error as {first}: shown in full there)"
    path, lineno, _ = report.location
    return RenderedFailure(text, Crash(path, (lineno or 0) + 1, text.splitlines()[0]))


def _violations(error: BaseException) -> list[PrivacyViolation]:
    if isinstance(error, PrivacyViolation):
        return [error]
    if isinstance(error, BaseExceptionGroup):
        return [v for inner in error.exceptions for v in _violations(inner)]
    return []


def _error_text(error: PrivacyPluginError) -> str:
    """The plugin's message, then the module's exception behind it with only the
    module's frames: where in the module it broke."""
    text = f"{type(error).__name__}: {error}"
    cause = error.__cause__
    if cause is None or isinstance(cause, PrivacyPluginError):
        return text
    frames = [
        frame
        for frame in traceback.extract_tb(cause.__traceback__)
        if not frame.filename.startswith(_MACHINERY)
        and not any(name in frame.filename for name in _MACHINERY_NAMES)
    ]
    if not frames:
        return text
    where = "".join(traceback.format_list(frames)).rstrip()
    return f"{text}\n\nRaised in the module (-vv for the whole traceback):\n{where}"


def _notes(error: BaseException) -> str:
    """What hypothesis noted on the error: the falsifying example, how to reproduce it."""
    notes = [str(n) for n in getattr(error, "__notes__", ())]
    return ("\n\n" + "\n".join(notes)) if notes else ""
