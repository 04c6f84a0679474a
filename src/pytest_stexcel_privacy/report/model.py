"""The run report: every finding of a session, per clause, as one JSON document.

The JSON is the source of truth: HTML and Markdown are rendered from it, CI
shards are merged from it, and a later run compares itself with it as a
baseline. Its shape is pinned by ``schema.json`` (shipped in the package) and
``SCHEMA_VERSION``; a document of another version is refused, not guessed at.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ..clauses import CLAUSES
from ..findings.outcomes import SEVERITY, Status, worst
from ..findings.statistics import Finding

SCHEMA_VERSION = 2
TOOL = "pytest-stexcel-privacy"


class ReportFormatError(ValueError):
    pass


@dataclass
class ClauseSummary:
    id: str
    section: str
    summary: str
    status: Status
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "summary": self.summary,
            "status": self.status.value,
            "counts": dict(self.counts),
        }


@dataclass
class Comparison:
    """A run against its baseline, by finding identity (not row ids)."""

    baseline: str
    new: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "new": self.new,
            "fixed": self.fixed,
            "unchanged": self.unchanged,
        }


@dataclass
class RunReport:
    findings: list[Finding]
    complete: bool = True
    incomplete_reasons: list[str] = field(default_factory=list)
    started: str = ""
    finished: str = ""
    duration: float = 0.0
    hypothesis_seed: str | None = None
    hypothesis_profile: str | None = None
    expired_acceptances: list[str] = field(default_factory=list)
    # Live acceptances that matched nothing: reported, never failing the gate.
    unused_acceptances: list[str] = field(default_factory=list)
    comparison: Comparison | None = None

    def __post_init__(self) -> None:
        self.findings = sorted(self.findings, key=lambda f: (f.nodeid, f.clause))

    @property
    def clauses(self) -> list[ClauseSummary]:
        by_clause: dict[str, list[Finding]] = {c: [] for c in CLAUSES}
        for finding in self.findings:
            by_clause.setdefault(finding.clause, []).append(finding)
        summaries = []
        for clause_id, clause in CLAUSES.items():
            statuses = [f.status for f in by_clause[clause_id]]
            # checks, not findings: a check whose search showed the clause broken in
            # another example too files two findings, and is still one failed check
            counts = Counter(
                s.value for _, s in {(f.nodeid, f.status) for f in by_clause[clause_id]}
            )
            summaries.append(
                ClauseSummary(
                    clause_id,
                    clause.section,
                    clause.summary,
                    worst(statuses),
                    {s.value: counts[s.value] for s in Status if counts[s.value]},
                )
            )
        return summaries

    def by_clause(self) -> list[tuple[ClauseSummary, list[Finding]]]:
        """Each clause with its checks, failures first: clauses by status (then in the
        policy's order), and within a clause its checks by status (then by test)."""
        rank = {status: index for index, status in enumerate(SEVERITY)}
        grouped = [
            (
                clause,
                sorted(
                    (f for f in self.findings if f.clause == clause.id),
                    key=lambda f: (rank[f.status], f.nodeid),
                ),
            )
            for clause in self.clauses
        ]
        return sorted(grouped, key=lambda group: rank[group[0].status])

    @property
    def gate_failed(self) -> bool:
        """Whether CI should refuse the merge on this report alone."""
        return (
            not self.complete
            or bool(self.expired_acceptances)
            or any(c.status in (Status.FAILED, Status.ERROR) for c in self.clauses)
        )

    def identities(self) -> set[str]:
        return {key for finding in self.findings for key in finding.identities()}

    def compare_with(self, baseline: RunReport, name: str) -> Comparison:
        now, before = self.identities(), baseline.identities()
        self.comparison = Comparison(
            name, sorted(now - before), sorted(before - now), sorted(now & before)
        )
        return self.comparison

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": TOOL, "version": _version()},
            "run": {
                "complete": self.complete,
                "incomplete_reasons": list(self.incomplete_reasons),
                "started": self.started,
                "finished": self.finished,
                "duration": round(self.duration, 3),
                "hypothesis_seed": self.hypothesis_seed,
                "hypothesis_profile": self.hypothesis_profile,
            },
            "gate": "fail" if self.gate_failed else "pass",
            "clauses": [c.to_dict() for c in self.clauses],
            "findings": [f.to_dict() for f in self.findings],
            "expired_acceptances": list(self.expired_acceptances),
            "unused_acceptances": list(self.unused_acceptances),
            "comparison": self.comparison.to_dict() if self.comparison else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any, source: str = "report") -> RunReport:
        if not isinstance(data, dict) or "schema_version" not in data:
            raise ReportFormatError(f"{source} is not a {TOOL} JSON report")
        version = data["schema_version"]
        if version != SCHEMA_VERSION:
            raise ReportFormatError(
                f"{source} has schema version {version!r}; this {TOOL} {_version()} reads "
                f"version {SCHEMA_VERSION} only. Re-run the suite to produce a current report."
            )
        try:
            run = data["run"]
            comparison = data.get("comparison")
            return cls(
                findings=[Finding.from_dict(f) for f in data["findings"]],
                complete=bool(run["complete"]),
                incomplete_reasons=list(run.get("incomplete_reasons", [])),
                started=str(run.get("started", "")),
                finished=str(run.get("finished", "")),
                duration=float(run.get("duration", 0.0)),
                hypothesis_seed=run.get("hypothesis_seed"),
                hypothesis_profile=run.get("hypothesis_profile"),
                expired_acceptances=list(data.get("expired_acceptances", [])),
                unused_acceptances=list(data.get("unused_acceptances", [])),
                comparison=Comparison(**comparison) if comparison else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportFormatError(f"{source} is malformed: {exc!r}") from None

    @classmethod
    def load(cls, path: Path) -> RunReport:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ReportFormatError(f"report {str(path)!r} does not exist") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ReportFormatError(f"report {str(path)!r} cannot be read: {exc}") from None
        return cls.from_dict(data, source=f"report {str(path)!r}")


def merge(reports: Sequence[RunReport]) -> RunReport:
    """One report from CI shards: all findings; complete only if every shard was; an
    acceptance used on any shard is used."""
    if not reports:
        raise ReportFormatError("nothing to merge: give at least one report")
    # A check's findings under a clause (several when examples differ) come from the one
    # shard where they were worst: a check run on two shards is not counted twice.
    findings: dict[tuple[str, str], list[Finding]] = {}
    for report in reports:
        shard: dict[tuple[str, str], list[Finding]] = {}
        for finding in report.findings:
            shard.setdefault((finding.nodeid, finding.clause), []).append(finding)
        for key, group in shard.items():
            kept = findings.get(key)
            if kept is None or _worst([*kept, *group]) == _worst(group):
                findings[key] = group
    seeds = {r.hypothesis_seed for r in reports}
    profiles = {r.hypothesis_profile for r in reports}
    starts = [r.started for r in reports if r.started]
    ends = [r.finished for r in reports if r.finished]
    return RunReport(
        findings=[finding for group in findings.values() for finding in group],
        complete=all(r.complete for r in reports),
        incomplete_reasons=_unique(reason for r in reports for reason in r.incomplete_reasons),
        started=min(starts, default=""),
        finished=max(ends, default=""),
        duration=sum(r.duration for r in reports),
        hypothesis_seed=seeds.pop() if len(seeds) == 1 else None,
        hypothesis_profile=profiles.pop() if len(profiles) == 1 else None,
        expired_acceptances=_unique(a for r in reports for a in r.expired_acceptances),
        # used on any shard is used: unused only where every shard found it unused
        unused_acceptances=[
            a
            for a in reports[0].unused_acceptances
            if all(a in r.unused_acceptances for r in reports)
        ],
    )


def _worst(findings: Sequence[Finding]) -> Status:
    return worst([f.status for f in findings])


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _version() -> str:
    try:
        return metadata.version(TOOL)
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"
