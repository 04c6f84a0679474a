"""The guard of a Python the module started: built from what the parent's guard described.

Run by ``child_site/sitecustomize.py`` at the child's start-up, before any of
its own code. The child refuses what the parent would and reports every event
to the parent's report directory, starting with its own command line, which
tells the parent this process is seen (:mod:`.child_processes`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .child_processes import DESCRIPTION_VERSION, ENVIRONMENT
from .egress import GUARDED_CHILD, EgressEvent, EgressGuard


def guard_this_child(description: str) -> EgressGuard:
    config = json.loads(description)
    if not isinstance(config, dict) or config.get("v") != DESCRIPTION_VERSION:
        raise ValueError(f"{ENVIRONMENT} is not a version-{DESCRIPTION_VERSION} description")
    outside = [(str(host), None if port is None else int(port)) for host, port in config["outside"]]
    guard = EgressGuard(outside, report_to=Path(config["reports"])).start()
    guard.record(EgressEvent(GUARDED_CHILD, sys.executable, argv=tuple(sys.orig_argv)))
    return guard
