"""Turning pytest's phase reports of a privacy check into one Finding, and redacting them.

A check's verdict can be decided in any phase (a broken adapter errors at
setup, a violation fails the call, a crash in teardown errors), so the
finding is built up on the item across phases and attached, complete, to
the teardown report: that one report then carries it to the controller
under pytest-xdist, and to JUnit XML as the clause/status properties.

Every phase report of every test, and the finding, leave here redacted
(:func:`~pytest_stexcel_privacy.findings.masking.redact`): the traceback, the
captured output and log, the examples hypothesis printed. This is the process
that minted the persons, so it is the one that can recognise their values;
the terminal, JUnit XML and the report writers only ever see the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from ..findings.masking import redact
from ..findings.outcomes import (
    NotApplicable,
    PrivacyViolation,
    Status,
    phase_status,
    skip_summary,
    violations_in,
)
from ..findings.statistics import FURTHER_ATTRIBUTE, REPORT_ATTRIBUTE, Finding

if TYPE_CHECKING:
    from .holder import PrivacyHarness

CLAUSE_PROPERTY = "privacy_clause"
STATUS_PROPERTY = "privacy_status"
FINDING_KEY = pytest.StashKey[Finding]()
FURTHER_KEY = pytest.StashKey[list[Finding]]()  # the check's other findings


def record_phase(
    item: pytest.Item,
    clause: str,
    call: pytest.CallInfo[None],
    report: pytest.TestReport,
) -> None:
    finding = item.stash.get(FINDING_KEY, None)
    if finding is None:
        finding = item.stash[FINDING_KEY] = Finding(item.nodeid, clause, Status.NOT_TESTED)
    error = call.excinfo.value if call.excinfo else None
    status = phase_status(call.when, report.outcome, error, finding.status)
    if status is not None and status != finding.status:
        finding.status = status
        if error is not None:
            item.stash[FURTHER_KEY] = _describe_error(finding, error)
    finding.duration += report.duration
    harness = _harness(item)
    if harness is not None:
        finding.statistics = harness.statistics.to_dict()
        finding.retentions = list(harness.retentions_used)
        finding.accepted = list(harness.accepted)
    if call.when == "teardown":
        item.user_properties[:] = [
            p for p in item.user_properties if p[0] not in (CLAUSE_PROPERTY, STATUS_PROPERTY)
        ]
        item.user_properties.extend(
            [(CLAUSE_PROPERTY, finding.clause), (STATUS_PROPERTY, finding.status.value)]
        )
        report.user_properties = list(item.user_properties)
        setattr(report, REPORT_ATTRIBUTE, finding.redacted(redact).to_dict())
        further = item.stash.get(FURTHER_KEY, [])
        setattr(report, FURTHER_ATTRIBUTE, [f.redacted(redact).to_dict() for f in further])


@dataclass(frozen=True)
class Crash:
    """Where a failure happened, as JUnit XML and the short summary read it."""

    path: str
    lineno: int
    message: str


@dataclass(frozen=True)
class RenderedFailure:
    """A failure as text pytest prints as it is: once values were masked in it, or as a
    check's finding (``report/failure_text.py``)."""

    text: str
    reprcrash: Crash | None

    def toterminal(self, out: Any) -> None:
        out.line(self.text)

    def __str__(self) -> str:
        return self.text


def redact_report(report: pytest.TestReport) -> None:
    """Mask the values in everything pytest shows of ``report``, in place."""
    report.sections = [(title, redact(content)) for title, content in report.sections]
    report.user_properties = [
        (name, redact(value) if isinstance(value, str) else value)
        for name, value in report.user_properties
    ]
    longrepr = report.longrepr
    if longrepr is None:
        return
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        path, line, reason = longrepr
        report.longrepr = (path, line, redact(reason))
        return
    text = report.longreprtext
    masked = redact(text)
    if masked == text:
        return  # nothing to hide: keep pytest's own (coloured) rendering
    crash = getattr(longrepr, "reprcrash", None)
    # Shaped as pytest reads a rendered failure (toterminal, reprcrash); the class it
    # declares for that is private.
    report.longrepr = RenderedFailure(  # type: ignore[assignment]
        masked,
        None if crash is None else Crash(str(crash.path), crash.lineno, redact(crash.message)),
    )


def _describe_error(finding: Finding, error: BaseException) -> list[Finding]:
    """Describe ``error`` in ``finding``; the findings of the further violations it carries,
    each filed under its own clause.

    Violations of one clause shown by the same example are one finding with all their
    evidence; one shown by another example (what the search found after the fixed
    sequence) is a finding of its own, with that example: a reviewer replays an example
    to see its evidence, so evidence never sits beside an example that did not show it.
    """
    violations = violations_in(error)
    if violations:
        by_example: dict[tuple[str, str], Finding] = {}
        for violation in violations:
            kept = by_example.get((violation.clause, violation.example))
            if kept is None:
                by_example[violation.clause, violation.example] = _violation_finding(
                    finding, violation
                )
            else:
                keys = {e.key for e in kept.evidence}
                kept.evidence.extend(e for e in violation.evidence if e.key not in keys)
        first, *further = by_example.values()
        # the lifecycle check files a failure where it broke
        finding.clause, finding.summary = first.clause, first.summary
        finding.evidence, finding.example = first.evidence, first.example
        return further
    if isinstance(error, NotApplicable):
        finding.summary = str(error.msg)
    elif isinstance(error, pytest.skip.Exception):
        finding.summary = skip_summary(error)
    elif isinstance(error, pytest.fail.Exception):
        finding.summary = str(error.msg)  # without pytest's "Failed: "
    else:
        first_line = (str(error).strip().splitlines() or [""])[0]
        finding.summary = f"{type(error).__name__}: {first_line}".rstrip(": ")
    return []


def _violation_finding(check: Finding, violation: PrivacyViolation) -> Finding:
    return Finding(
        check.nodeid,
        violation.clause,
        Status.FAILED,
        summary=violation.summary,
        evidence=list(violation.evidence),
        example=violation.example,
    )


def _harness(item: pytest.Item) -> PrivacyHarness | None:
    harness = getattr(item, "funcargs", {}).get("privacy_harness")
    if harness is None:
        return None
    from .holder import PrivacyHarness  # only once a check ran: plugin loading stays light

    return harness if isinstance(harness, PrivacyHarness) else None
