"""What one check found, as plain data that survives pytest-xdist and JSON.

A check's outcome travels from the worker that ran it to the process that
writes the reports as a :class:`Finding` dict attached to pytest's own test
report, so nothing here may hold more than strings, numbers, lists and dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .evidence import Evidence
from .outcomes import Status

# The attribute of a pytest TestReport carrying the finding; xdist serialises it.
REPORT_ATTRIBUTE = "stexcel_privacy"
# Location names kept per store in a finding (every one is counted).
MAX_LOCATIONS_NAMED = 25
# The same check's other findings (a list of Finding dicts), when one run of it showed
# violations of several clauses, or of one clause in more than one example.
FURTHER_ATTRIBUTE = "stexcel_privacy_further"


@dataclass
class CheckStatistics:
    """How much a check looked: what a PASS covers, not its timing.

    The property search's effort (examples), what its residue scans read per
    store, the needle forms searched, what else it checked (``checked``), the
    adapter calls that drove the module, and the hypothesis seeds it ran with.
    """

    fixed_examples: int = 0
    generated_examples: int = 0
    failing_examples: int = 0
    shrink_seconds_limit: float | None = None
    scans: int = 0
    # store name -> kind, scans, locations (the first names), location_count, values, bytes
    stores: dict[str, dict[str, Any]] = field(default_factory=dict)
    needle_forms: list[str] = field(default_factory=list)
    persons_searched: int = 0  # the most persons one scan searched for
    checked: dict[str, int] = field(default_factory=dict)  # e.g. "store region" -> 3
    adapter_calls: dict[str, int] = field(default_factory=dict)
    hypothesis_seeds: list[str] = field(default_factory=list)

    def record_scan(
        self, store: str, kind: str, locations: list[str], values: int, size: int
    ) -> None:
        """One scan of one store: the locations it read, values and bytes it searched."""
        entry = self.stores.setdefault(
            store,
            {"kind": kind, "scans": 0, "locations": [], "location_count": 0, "values": 0,
             "bytes": 0},
        )  # fmt: skip
        entry["scans"] += 1
        named = entry["locations"]
        named.extend(loc for loc in dict.fromkeys(locations) if loc not in named)
        del named[MAX_LOCATIONS_NAMED:]
        entry["location_count"] = max(entry["location_count"], len(set(locations)))
        entry["values"] += values
        entry["bytes"] += size

    def record_needles(self, forms: Iterable[str], persons: int, order: Mapping[str, int]) -> None:
        self.scans += 1
        self.needle_forms = sorted({*self.needle_forms, *forms}, key=lambda f: order.get(f, 99))
        self.persons_searched = max(self.persons_searched, persons)

    def record_checked(self, what: str, count: int = 1) -> None:
        """``count`` more of ``what`` (singular: "store region") checked without examples."""
        self.checked[what] = self.checked.get(what, 0) + count

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
            statistics=_redacted(self.statistics, redact),
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


def _redacted(data: Any, redact: Callable[[str], str]) -> Any:
    """``data`` with ``redact`` applied to every string in it (location names, keys)."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {redact(str(k)): _redacted(v, redact) for k, v in data.items()}
    if isinstance(data, list):
        return [_redacted(item, redact) for item in data]
    return data
