"""How a check ends: a proven violation, an error, not applicable, or a pass.

Failures are data: :class:`PrivacyViolation` carries the clause and the
evidence, and is an ``AssertionError`` so pytest shows it as a failure. Any
other exception out of a check means the check could not reach a verdict and
is reported as *error*. Statuses are worst-first ranked so a clause with one
failing and one passing check shows as failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

import pytest

from ..clauses import clause as lookup_clause
from .evidence import Evidence
from .visible import visible

MAX_EVIDENCE_LINES = 50


class Status(StrEnum):
    FAILED = "failed"
    ERROR = "error"
    PASSED = "passed"
    NOT_APPLICABLE = "not applicable"
    NOT_TESTED = "not tested"


# Worst first: the clause's status is the first of these any of its checks had.
SEVERITY: tuple[Status, ...] = tuple(Status)


def worst(statuses: Iterable[Status]) -> Status:
    present = set(statuses)
    return next((s for s in SEVERITY if s in present), Status.NOT_TESTED)


class PrivacyViolation(AssertionError):
    """A clause is broken; ``evidence`` says where and how."""

    def __init__(
        self,
        clause: str,
        summary: str,
        evidence: Sequence[str | Evidence] = (),
        example: str = "",
    ) -> None:
        lookup_clause(clause)  # an unknown clause id is a bug in the check itself
        self.clause = clause
        self.summary = summary
        self.evidence = tuple(e if isinstance(e, Evidence) else Evidence(e) for e in evidence)
        self.example = example
        super().__init__(self.render())

    def in_example(self, description: str) -> PrivacyViolation:
        """The same violation, saying which example showed it."""
        return PrivacyViolation(self.clause, self.summary, self.evidence, description)

    def with_evidence(self, evidence: Sequence[Evidence]) -> PrivacyViolation:
        return PrivacyViolation(self.clause, self.summary, evidence, self.example)

    def render(self) -> str:
        example = f" (in the {self.example})" if self.example else ""
        lines = [visible(f"[{self.clause}] {self.summary}{example}", keep_lines=True)]
        shown = self.evidence[:MAX_EVIDENCE_LINES]
        lines.extend(f"  - {visible(item.text)}" for item in shown)
        if len(self.evidence) > len(shown):
            lines.append(f"  ... and {len(self.evidence) - len(shown)} more")
        return "\n".join(lines)


if TYPE_CHECKING:
    # What the suite uses of the class pytest.skip() raises. pytest names that class
    # publicly only as the value ``pytest.skip.Exception``, which a type checker cannot
    # take as a base class; at run time the base is that value itself.
    class _SkipException(BaseException):
        msg: str

        def __init__(
            self, msg: str = "", pytrace: bool = True, allow_module_level: bool = False
        ) -> None: ...

else:
    _SkipException = pytest.skip.Exception


class NotApplicable(_SkipException):
    """The adapter lacks an optional capability the check needs; never a pass.

    A skip, so pytest shows it as skipped; the report tells it apart from an
    ordinary skip by this type.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"not applicable: {reason}", allow_module_level=False)


def has_violation(error: BaseException) -> bool:
    """Whether ``error`` is, or (as hypothesis groups distinct failures) contains, a violation."""
    if isinstance(error, PrivacyViolation):
        return True
    if isinstance(error, BaseExceptionGroup):
        return any(has_violation(inner) for inner in error.exceptions)
    return False


SKIPPED_CHECK = (
    "a privacy check that does not run cannot pass; deselect its clause with --privacy-clauses"
)


def skip_summary(error: BaseException) -> str:
    """What an ordinary skip of a selected check says in the report."""
    reason = str(getattr(error, "msg", "") or error).strip() or "no reason given"
    return f"skipped: {reason} — {SKIPPED_CHECK}"


def phase_status(
    when: str, outcome: str, error: BaseException | None, previous: Status | None
) -> Status | None:
    """The status a check has after one pytest phase (None: nothing decided yet).

    Only a proven violation is *failed*; any other exception, in any phase,
    is *error*; a skip is *not applicable* only when raised as NotApplicable.
    An ordinary skip (``pytest.skip`` in the adapter fixture or an adapter
    method, a skip marker) of a check that was selected is a check that did
    not run to the end: *error*, never a pass. Deselection (``-k``, ``-m``,
    ``--privacy-clauses``) never runs the check, so never reaches here.
    """
    if outcome == "skipped":
        return Status.NOT_APPLICABLE if isinstance(error, NotApplicable) else Status.ERROR
    if outcome == "failed":
        if when == "call" and error is not None and has_violation(error):
            return Status.FAILED
        return previous if previous == Status.FAILED else Status.ERROR
    if when == "call":
        return Status.PASSED
    return previous
