"""The run's privacy settings: what every check and the report read.

Plain data, so the harness and the checks can hold it without depending on
pytest's option parsing; :mod:`pytest_stexcel_privacy.options` reads and
validates it from the command line and ini file at start-up.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .findings.acceptance import Acceptance


@dataclass(frozen=True)
class PrivacySettings:
    max_examples: int | None = None  # None: the hypothesis profile's
    processor_timeout: float = 2.0
    call_timeout: float = 30.0
    mail_settle: float = 0.02  # seconds of quiet after which no more mail is expected
    shrink_seconds: float = 30.0  # 0 reports the first failing example unshrunk
    acceptances: tuple[Acceptance, ...] = field(default=())
    report_dir: Path | None = None
    baseline: Path | None = None  # an earlier report.json, loaded by the report
    unmask: bool = False
    rescan: bool = False  # True: no store's scan is reused, however unchanged (scan/reuse.py)
    pin_workers: bool = True  # xdist workers running checks on cores of their own (worker_cores)
    hypothesis_seed: str | None = None
    hypothesis_profile: str = "privacy-ci"  # the profile the checks start from
    clauses: tuple[str, ...] = ()  # patterns; empty selects every clause

    def expired_acceptances(self, today: date) -> list[str]:
        return [a.describe() for a in self.acceptances if a.expired(today)]


def clause_selected(clause: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(clause, pattern) for pattern in patterns)
