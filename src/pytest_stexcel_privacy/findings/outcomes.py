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
from functools import cached_property
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
    """A clause is broken; ``evidence`` says where and how.

    One check may show several violations (a lifecycle run breaking two
    clauses, a search finding a second bug after the fixed example's): the
    first is raised, carrying the others as ``further_violations``, and the
    report files each under its own clause.
    """

    def __init__(
        self,
        clause: str,
        summary: str,
        evidence: Sequence[str | Evidence] = (),
        example: str = "",
        further_violations: Sequence[PrivacyViolation] = (),
    ) -> None:
        lookup_clause(clause)  # an unknown clause id is a bug in the check itself
        self.clause = clause
        self.summary = summary
        self.evidence = tuple(e if isinstance(e, Evidence) else Evidence(e) for e in evidence)
        self.example = example
        self.further_violations = tuple(
            v for further in further_violations for v in further.violations()
        )
        super().__init__(self.render())

    def in_example(self, description: str) -> PrivacyViolation:
        """The same violation, saying which example showed it."""
        return PrivacyViolation(
            self.clause, self.summary, self.evidence, description, self.further_violations
        )

    def with_evidence(self, evidence: Sequence[Evidence]) -> PrivacyViolation:
        return PrivacyViolation(
            self.clause, self.summary, evidence, self.example, self.further_violations
        )

    def joined(self, other: PrivacyViolation) -> PrivacyViolation:
        """This violation with what ``other`` says and shows that it does not: its summary
        (after this one's, a shared ``"lifecycle: "`` said once) and its evidence (by key)."""
        keys = {e.key for e in self.evidence}
        added = [e for e in other.evidence if e.key not in keys]
        summary = self.summary
        if other.summary not in summary.split("; "):
            head, colon, rest = other.summary.partition(": ")
            said = rest if colon and summary.startswith(head + colon) else other.summary
            if said not in summary.split("; "):
                summary = f"{summary}; {said}"
        if not added and summary == self.summary:
            return self
        return PrivacyViolation(
            self.clause,
            summary,
            (*self.evidence, *added),
            self.example,
            self.further_violations,
        )

    def alone(self) -> PrivacyViolation:
        """This violation without the further ones it carries."""
        if not self.further_violations:
            return self
        return PrivacyViolation(self.clause, self.summary, self.evidence, self.example)

    def violations(self) -> tuple[PrivacyViolation, ...]:
        """This violation and every further one, each alone, in the order found."""
        return self._each_alone

    @cached_property
    def _each_alone(self) -> tuple[PrivacyViolation, ...]:
        # Kept: a search asks whether each violation it records is known, comparing it
        # with every known one's, and rendering a fresh ``alone()`` each time was a
        # tenth of a failing lifecycle's search (a violation never changes once made).
        return (self.alone(), *self.further_violations)

    def of_clause(self, clause: str) -> PrivacyViolation | None:
        """The first of :meth:`violations` filed under ``clause``, if any."""
        return next((v for v in self.violations() if v.clause == clause), None)

    @cached_property
    def identity(self) -> tuple[str, frozenset[str]]:
        """What makes two violations the same finding: the clause and what was seen (where
        the evidence is, numbers in a store's place aside: :attr:`Evidence.place_key`; the
        summary when there is no evidence)."""
        keys = frozenset(e.place_key for e in self.evidence) or frozenset({self.summary})
        return self.clause, keys

    def render(self) -> str:
        example = f" (in the {self.example})" if self.example else ""
        lines = [visible(f"[{self.clause}] {self.summary}{example}", keep_lines=True)]
        shown = self.evidence[:MAX_EVIDENCE_LINES]
        lines.extend(f"  - {visible(item.text)}" for item in shown)
        if len(self.evidence) > len(shown):
            lines.append(f"  ... and {len(self.evidence) - len(shown)} more")
        for further in self.further_violations:
            lines.append("and also:")
            lines.append(further.render())
        return "\n".join(lines)


def combine(violations: Iterable[PrivacyViolation]) -> PrivacyViolation | None:
    """One violation to raise for all of ``violations`` (each may carry further ones): the
    first, carrying the rest; None when there is none."""
    found = [v for violation in violations for v in violation.violations()]
    if not found:
        return None
    first, *rest = found
    return PrivacyViolation(first.clause, first.summary, first.evidence, first.example, rest)


def is_known(violation: PrivacyViolation, known: Iterable[PrivacyViolation]) -> bool:
    """Whether ``known`` already shows what ``violation`` shows: a violation of the same
    clause whose evidence includes all of its evidence."""
    clause, keys = violation.identity
    return any(
        other_clause == clause and keys <= other_keys
        for other in known
        for other_clause, other_keys in (v.identity for v in other.violations())
    )


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
    return bool(violations_in(error))


def violations_in(error: BaseException) -> list[PrivacyViolation]:
    """Every violation ``error`` is or contains (in a group, as hypothesis reports distinct
    failures), each further one it carries included, in order."""
    if isinstance(error, PrivacyViolation):
        return list(error.violations())
    if isinstance(error, BaseExceptionGroup):
        return [v for inner in error.exceptions for v in violations_in(inner)]
    return []


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
