"""Gathers the session's findings and, in the process that owns the run, reports them.

Findings arrive attached to pytest's teardown reports, which pytest-xdist
already ships from workers to the controller, so the same hook collects them
in a plain run and under ``-n``. Only the controller (or a plain run) writes
files and prints the summary; workers merely run checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ..findings.acceptance import Acceptance
from ..findings.outcomes import Status
from ..findings.statistics import FURTHER_ATTRIBUTE, REPORT_ATTRIBUTE, Finding
from ..findings.visible import visible
from ..harness.recording import CLAUSE_PROPERTY
from .coverage import not_applicable
from .interruption import Terminated
from .model import RunReport

SECTION = "Stexcel privacy policy: clauses"


# A not-applicable check's reason is cut to this many characters in the terminal table.
SHORT_REASON = 110


def _short(text: str) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= SHORT_REASON else line[: SHORT_REASON - 1] + "…"


class ReportCollector:
    def __init__(
        self,
        directory: Path | None,
        baseline: tuple[RunReport, str] | None,
        expired_acceptances: list[str],
        hypothesis_seed: str | None,
        hypothesis_profile: str | None = None,
        live_acceptances: Sequence[Acceptance] = (),
    ) -> None:
        self.directory = directory
        self.baseline = baseline
        self.expired_acceptances = expired_acceptances
        # Used or not is judged here, on the findings of every worker: each finding
        # carries the evidence its check accepted, and the clause it accepted it under.
        self.live_acceptances = tuple(live_acceptances)
        self.hypothesis_seed = hypothesis_seed
        self.hypothesis_profile = hypothesis_profile
        self.findings: list[Finding] = []
        self.started_checks: dict[str, str] = {}  # nodeid -> clause, once its setup reported
        self.crashed: set[str] = set()
        self.incomplete: list[str] = []
        self.started = datetime.now(UTC)
        self.report: RunReport | None = None
        self.written: list[Path] = []
        self.write_error = ""  # why the report files could not be written, if they could not

    # --- collecting ---------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, REPORT_ATTRIBUTE, None)
        if report.when == "teardown" and isinstance(data, dict):
            self.findings.append(Finding.from_dict(data))
            # one check's violations of other clauses, each filed under its own clause
            further = getattr(report, FURTHER_ATTRIBUTE, None) or []
            self.findings.extend(Finding.from_dict(f) for f in further if isinstance(f, dict))
        clause = dict(report.user_properties).get(CLAUSE_PROPERTY)
        if report.when == "setup" and isinstance(clause, str):
            self.started_checks[report.nodeid] = clause
        if report.when not in ("setup", "call", "teardown"):  # xdist's report of a crash
            self.crashed.add(report.nodeid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        if error:
            worker = getattr(node, "gateway", None)
            name = getattr(worker, "id", "a worker")
            self.incomplete.append(f"{name} crashed: {str(error).strip().splitlines()[-1]}")

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        if excinfo.type is KeyboardInterrupt:
            self.incomplete.append("interrupted (Ctrl-C)")
        elif excinfo.type is Terminated:
            self.incomplete.append(str(excinfo.value))
        else:
            self.incomplete.append(f"stopped early: {excinfo.value}")

    # --- reporting ----------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus == pytest.ExitCode.INTERRUPTED and not self.incomplete:
            self.incomplete.append("the run was interrupted")
        stopped = session.shouldstop or session.shouldfail
        if stopped and not self.incomplete:
            self.incomplete.append(f"the run stopped early: {stopped}")
        self.findings.extend(self._unfinished_checks())
        nothing_ran = not self.findings and not self.expired_acceptances
        if nothing_ran and (self.directory is None or not self.incomplete):
            return  # no privacy check ran: stay silent, write nothing
        finished = datetime.now(UTC)
        report = RunReport(
            findings=self.findings,
            complete=not self.incomplete,
            incomplete_reasons=self.incomplete,
            started=self.started.isoformat(timespec="seconds"),
            finished=finished.isoformat(timespec="seconds"),
            duration=(finished - self.started).total_seconds(),
            hypothesis_seed=self.hypothesis_seed,
            hypothesis_profile=self.hypothesis_profile,
            expired_acceptances=self.expired_acceptances,
            unused_acceptances=[
                a.describe() for a in self.live_acceptances if not a.used_in(self.findings)
            ],
        )
        if self.baseline is not None:
            report.compare_with(*self.baseline)
        self.report = report
        if self.directory is not None:
            from .writer import ReportDirectoryError, append_step_summary, write_reports

            try:
                self.written = write_reports(report, self.directory)
                append_step_summary(report)
            except ReportDirectoryError as exc:  # e.g. the directory was removed mid-run
                self.write_error = str(exc)
        if (report.gate_failed or self.write_error) and session.exitstatus == pytest.ExitCode.OK:
            # Expired acceptances or a cut-short run fail the gate even with no test failing.
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _unfinished_checks(self) -> list[Finding]:
        """Checks that started but never reported a verdict: errors, never passes."""
        finished = {f.nodeid for f in self.findings}
        return [
            Finding(
                nodeid,
                clause,
                Status.ERROR,
                summary=(
                    "its worker crashed while running it"
                    if nodeid in self.crashed
                    else "the run stopped before it finished"
                ),
            )
            for nodeid, clause in self.started_checks.items()
            if nodeid not in finished
        ]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        report = self.report
        if report is None:
            return
        terminalreporter.write_sep("=", SECTION)
        width = max(len(c.id) for c in report.clauses)
        for clause in report.clauses:
            counts = ", ".join(f"{n} {status}" for status, n in clause.counts.items())
            detail = f"  ({counts})" if counts else ""
            terminalreporter.write_line(
                f"{clause.id:<{width}}  {clause.status.value.upper():<14}  {clause.section}{detail}"
            )
            checks = [f for f in report.findings if f.clause == clause.id]
            for test, reason in not_applicable(checks):
                terminalreporter.write_line(
                    f"    not applicable: {test}: {_short(visible(reason))}"
                )
        for reason in report.incomplete_reasons:
            terminalreporter.write_line(f"INCOMPLETE: {visible(reason)}", red=True)
        for acceptance in report.expired_acceptances:
            terminalreporter.write_line(f"EXPIRED ACCEPTANCE: {visible(acceptance)}", red=True)
        for acceptance in report.unused_acceptances:
            terminalreporter.write_line(
                f"UNUSED ACCEPTANCE: {visible(acceptance)} matched nothing in this run", yellow=True
            )
        if report.comparison is not None:
            c = report.comparison
            terminalreporter.write_line(
                f"against baseline {c.baseline}: {len(c.new)} new, {len(c.fixed)} fixed, "
                f"{len(c.unchanged)} unchanged"
            )
            for key in c.new:
                terminalreporter.write_line(f"  new: {visible(key)}")
            for key in c.fixed:
                terminalreporter.write_line(f"  fixed: {visible(key)}")
        for path in self.written:
            terminalreporter.write_line(f"privacy report: {path}")
        if self.write_error:
            terminalreporter.write_line(f"ERROR: {self.write_error}", red=True)
