"""Per-clause tally of check statuses, and its terminal summary.

Statuses travel as ``user_properties`` on pytest's reports, so the tally is
built the same way in a plain run and on the pytest-xdist controller, and
JUnit XML gets the clause ids as properties without extra work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pytest

from .clauses import CLAUSES
from .outcomes import Status, worst

CLAUSE_PROPERTY = "privacy_clause"
STATUS_PROPERTY = "privacy_status"


class ClauseResults:
    def __init__(self) -> None:
        self.checks: dict[str, list[tuple[str, Status]]] = defaultdict(list)

    def add(self, nodeid: str, properties: Iterable[tuple[str, object]]) -> None:
        found = dict(properties)
        clause = found.get(CLAUSE_PROPERTY)
        status = found.get(STATUS_PROPERTY)
        if isinstance(clause, str) and isinstance(status, str):
            self.checks[clause].append((nodeid, Status(status)))

    def __bool__(self) -> bool:
        return bool(self.checks)

    def status(self, clause: str) -> Status:
        return worst(status for _, status in self.checks.get(clause, ()))

    def summary_lines(self) -> list[str]:
        width = max(len(c) for c in CLAUSES)
        lines = []
        for clause_id, clause in CLAUSES.items():
            checks = self.checks.get(clause_id, [])
            status = self.status(clause_id)
            counts = ", ".join(
                f"{sum(1 for _, s in checks if s == each)} {each}"
                for each in Status
                if any(s == each for _, s in checks)
            )
            detail = f"  ({counts})" if counts else ""
            lines.append(
                f"{clause_id:<{width}}  {status.value.upper():<14}  {clause.section}{detail}"
            )
        return lines


class ClauseRecorder:
    """Registered as a plugin object so its hooks can reach the session's results."""

    def __init__(self, results: ClauseResults) -> None:
        self.results = results

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # In a plain run, and under xdist on the controller for every worker's report.
        if report.when == "teardown":
            self.results.add(report.nodeid, report.user_properties)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results:
            return
        terminalreporter.write_sep("=", "Stexcel privacy policy: clauses")
        for line in self.results.summary_lines():
            terminalreporter.write_line(line)
