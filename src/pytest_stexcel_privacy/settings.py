"""The run's privacy settings, read once from the command line and ini file.

Kept apart from the harness so ``pytest_configure`` can build them without
importing the scanners.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrivacySettings:
    max_examples: int = 20
    processor_timeout: float = 2.0
    shrink_seconds: float = 30.0  # 0 reports the first failing example unshrunk
