"""What a run decided, read from its report.json as CI and reviewers read it.

Tests assert on the report, never on windows of terminal text, and take the
checks they expect from the registry, never from a hand count: a clause, a
check or a finding added later then shows up in the assertions instead of
being cut off or silently passed over. A run adds ``REPORT_OPTION`` (or its
own ``--privacy-report``) and the test reads the directory back with
:func:`read_report`, which also validates the document against the schema.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_stexcel_privacy import PrivacySuite
from pytest_stexcel_privacy.checks.registry import CHECKS, CheckSpec
from pytest_stexcel_privacy.findings.outcomes import Status, worst
from pytest_stexcel_privacy.report.schema import load_schema

REPORT_DIR = "privacy-report"
REPORT_OPTION = f"--privacy-report={REPORT_DIR}"
NOT_TESTED = "not tested"
FAILING = ("failed", "error")

Finding = dict[str, Any]


@dataclass(frozen=True)
class Report:
    """A report.json document, with the questions tests ask of it."""

    data: dict[str, Any]

    def clause_statuses(self) -> dict[str, str]:
        """Every clause's status, by clause id."""
        return {clause["id"]: clause["status"] for clause in self.data["clauses"]}

    def tested_clauses(self) -> dict[str, str]:
        """The status of each clause some check ran for."""
        return {c: s for c, s in self.clause_statuses().items() if s != NOT_TESTED}

    def findings(self, clause: str | None = None, *, status: str | None = None) -> list[Finding]:
        """The findings filed under ``clause`` with ``status`` (None: any)."""
        return [
            f
            for f in self.data["findings"]
            if (clause is None or f["clause"] == clause)
            and (status is None or f["status"] == status)
        ]

    def check_statuses(self) -> dict[str, str]:
        """Each check's status, by its test's name: the worst of its findings (a check that
        broke several clauses files a finding under each)."""
        statuses: dict[str, str] = {}
        nodeids: dict[str, str] = {}
        for f in self.findings():
            name = check_name(f)
            assert nodeids.setdefault(name, f["nodeid"]) == f["nodeid"], (
                f"two tests share a name: {name}"
            )
            statuses[name] = str(
                worst([Status(f["status"]), Status(statuses.get(name, f["status"]))])
            )
        return statuses

    def failing_checks(self) -> set[str]:
        """The checks that failed or errored."""
        return {name for name, status in self.check_statuses().items() if status in FAILING}


def read_report(directory: Path) -> Report:
    """The report.json in ``directory``, checked against the published schema."""
    data: dict[str, Any] = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, load_schema())
    return Report(data)


def check_name(finding: Finding) -> str:
    name: str = finding["nodeid"].rsplit("::", 1)[-1]
    return name


def described(finding: Finding) -> str:
    """A finding as a reader meets it: summary, the example that showed it, its evidence."""
    example = f" (in the {finding['example']})" if finding["example"] else ""
    lines = [f"[{finding['clause']}] {finding['summary']}{example}"]
    lines.extend(item["text"] for item in finding["evidence"])
    return "\n".join(lines)


def suite_checks(clauses: str = "*", *, excluding: str = "") -> dict[str, CheckSpec]:
    """The registered checks a ``PrivacySuite`` subclass collects, selected as a run would
    with ``--privacy-clauses=<clauses>`` and ``-k "not <excluding>"``."""
    return {
        name: spec
        for name, spec in CHECKS.items()
        if hasattr(PrivacySuite, name)
        and fnmatchcase(spec.clause, clauses)
        and not (excluding and excluding in name)
    }


def clauses_of(checks: dict[str, CheckSpec]) -> set[str]:
    return {spec.clause for spec in checks.values()}


def statuses_for(
    checks: dict[str, CheckSpec], capabilities: set[str], verdict: str
) -> dict[str, str]:
    """What each check ends in for an adapter with ``capabilities``: ``verdict``, or not
    applicable where it needs one the adapter leaves out (an optional one: a missing
    required capability errors instead)."""
    return {
        name: verdict if set(spec.needs) <= capabilities else "not applicable"
        for name, spec in checks.items()
    }


def assert_checks_ended(
    result: pytest.RunResult,
    directory: Path,
    expected: dict[str, str],
) -> Report:
    """Each check ended as ``expected`` says, in the report and in pytest's own counts,
    which use the same words: a check in *error* is one of pytest's errors, whether it
    broke in setup or in its call."""
    report = read_report(directory)
    assert report.check_statuses() == expected
    outcome = {
        "passed": "passed",
        "failed": "failed",
        "not applicable": "skipped",
        "error": "errors",
    }
    result.assert_outcomes(**Counter(outcome[status] for status in expected.values()))
    return report
