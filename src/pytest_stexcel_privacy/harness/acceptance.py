"""Accepted findings applied to violations: the one place a project's acceptances act.

Every violation a check finds passes through :meth:`AcceptanceFilter.enforce`
exactly once, where it is found: the property runner hands it each example's
violation, a state machine's ``fail`` each violation it observes. What the
project accepted is recorded for the report and taken out; the rest is raised.
Nothing downstream filters again, so no accepted evidence can come back under
another name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from ..findings.acceptance import Acceptance
from ..findings.evidence import Evidence
from ..findings.outcomes import PrivacyViolation


class AcceptanceFilter:
    def __init__(self, acceptances: Iterable[Acceptance], today: date) -> None:
        # Expiry is judged once, on the day the check opens, whatever clock a check
        # later travels to.
        self.live = tuple(a for a in acceptances if not a.expired(today))
        self.accepted: list[Evidence] = []

    def enforce(self, violation: PrivacyViolation) -> None:
        """Raise ``violation`` less the evidence the project accepted; return when it
        accepted all of it (the caller then goes on to its next observation)."""
        __tracebackhide__ = True
        if not self.live or not violation.evidence:
            raise violation from None
        kept = []
        for item in violation.evidence:
            if any(a.covers(violation.clause, item) for a in self.live):
                accepted = replace(item, clause=violation.clause)
                if accepted not in self.accepted:
                    self.accepted.append(accepted)
            else:
                kept.append(item)
        if kept:
            raise violation.with_evidence(kept) from None
