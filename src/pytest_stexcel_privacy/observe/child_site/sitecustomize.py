"""Run at start-up by every Python the module starts during a privacy check.

The egress guard puts this directory first on ``PYTHONPATH`` and describes
itself in ``STEXCEL_PRIVACY_EGRESS_CHILD``. This file guards the child the
same way (what it refuses, where it reports), then runs the
``sitecustomize`` it shadows, if there is one. It must never break the child:
if it cannot guard, the child only stays unseen, and the parent's check
errors because no report came back.

Kept importable by any Python 3, since the module may start another one.
"""

import contextlib
import importlib.machinery
import importlib.util
import json
import os
import sys


def _guard() -> None:
    description = os.environ.get("STEXCEL_PRIVACY_EGRESS_CHILD")
    if not description:
        return
    try:
        from pytest_stexcel_privacy.observe.child_guard import guard_this_child
    except ImportError:  # another interpreter: reach the package where the parent has it
        sys.path.append(str(json.loads(description).get("package_root", "")))
        from pytest_stexcel_privacy.observe.child_guard import guard_this_child
    guard_this_child(description)


def _run_the_shadowed_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    path = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


with contextlib.suppress(Exception):  # unseen, not broken: the parent errors on it
    _guard()
_run_the_shadowed_sitecustomize()
