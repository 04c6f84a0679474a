"""What one check found, as plain data that survives pytest-xdist and JSON.

A check's outcome travels from the worker that ran it to the process that
writes the reports as a :class:`Finding` dict attached to pytest's own test
report, so nothing here may hold more than strings, numbers, lists and dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .evidence import Evidence
from .outcomes import Status

# The attribute of a pytest TestReport carrying the finding; xdist serialises it.
REPORT_ATTRIBUTE = "stexcel_privacy"
# The same check's findings under other clauses (a list of Finding dicts), when one run of
# it showed violations of several.
FURTHER_ATTRIBUTE = "stexcel_privacy_further"


@dataclass
class CheckStatistics:
    """How much a check looked: the property search's effort, not its timing."""

    fixed_examples: int = 0
    generated_examples: int = 0
    failing_examples: int = 0
    shrink_seconds_limit: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Finding:
    """The outcome of one check (one test item) for one clause."""

    nodeid: str
    clause: str
    status: Status
    summary: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    example: str = ""
    retentions: list[str] = field(default_factory=list)
    accepted: list[Evidence] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)
    duration: float = 0.0

    def redacted(self, redact: Callable[[str], str]) -> Finding:
        """The same finding with ``redact`` applied to everything a check wrote into it."""
        return replace(
            self,
            summary=redact(self.summary),
            evidence=[e.redacted(redact) for e in self.evidence],
            example=redact(self.example),
            accepted=[e.redacted(redact) for e in self.accepted],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "clause": self.clause,
            "status": self.status.value,
            "summary": self.summary,
            "evidence": [e.to_dict() for e in self.evidence],
            "example": self.example,
            "retentions": list(self.retentions),
            "accepted": [e.to_dict() for e in self.accepted],
            "statistics": dict(self.statistics),
            "duration": round(self.duration, 3),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            nodeid=str(data["nodeid"]),
            clause=str(data["clause"]),
            status=Status(data["status"]),
            summary=str(data.get("summary", "")),
            evidence=[Evidence.from_dict(e) for e in data.get("evidence", [])],
            example=str(data.get("example", "")),
            retentions=[str(r) for r in data.get("retentions", [])],
            accepted=[Evidence.from_dict(e) for e in data.get("accepted", [])],
            statistics=dict(data.get("statistics", {})),
            duration=float(data.get("duration", 0.0)),
        )

    def identities(self) -> set[str]:
        """Identities of what this finding reports, for comparing with a baseline."""
        if self.status not in (Status.FAILED, Status.ERROR):
            return set()
        if not self.evidence:
            return {f"{self.clause} | {self.nodeid.rsplit('::', 1)[-1]} | {self.summary}"}
        return {f"{self.clause} | {e.key}" for e in self.evidence}
