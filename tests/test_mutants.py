"""The suite catches every broken variant of the jewelry ERP, and passes the reference.

Driven through pytester, as users run it: a test module subclassing
PrivacySuite, the example's adapter, the plugin loaded from its entry point.
"""

from __future__ import annotations

import pytest

import mutants
from privacy_adapter import JewelryAdapter
from report_reading import (
    NOT_TESTED,
    REPORT_DIR,
    REPORT_OPTION,
    Finding,
    Report,
    clauses_of,
    described,
    read_report,
    suite_checks,
)
from suites import IMPORTS, suite_class

ALL_CHECKS = suite_checks()
CHECKS_OF = {clause: set(suite_checks(clause)) for clause in clauses_of(ALL_CHECKS)}


def run_suite(
    pytester: pytest.Pytester, service: str, adapter: str = "JewelryAdapter", *args: str
) -> Report:
    pytester.makepyfile(test_variant=IMPORTS + suite_class("TestVariant", service, adapter))
    pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--privacy-max-examples=3",
        "--privacy-shrink-seconds=5",
        REPORT_OPTION,
        *args,
    )
    return read_report(pytester.path / REPORT_DIR)


def test_reference_module_passes_with_zero_findings(pytester: pytest.Pytester) -> None:
    report = run_suite(pytester, "None")
    assert report.check_statuses() == dict.fromkeys(ALL_CHECKS, "passed")
    assert report.tested_clauses() == dict.fromkeys(clauses_of(ALL_CHECKS), "passed")
    assert report.data["gate"] == "pass"


def failed_clauses(report: Report) -> set[str]:
    return {c for c, s in report.clause_statuses().items() if s not in ("passed", NOT_TESTED)}


@pytest.mark.parametrize("mutant", list(mutants.EXPECTED), ids=lambda m: m.__name__)
def test_mutant_is_caught_by_the_right_clause(pytester: pytest.Pytester, mutant: type) -> None:
    clause, evidence = mutants.EXPECTED[mutant]
    # The lifecycle catches most of these too, under whichever clause breaks first; here
    # each single-clause check must catch its own mutant.
    without_lifecycle: tuple[str, ...] = ("-k", "not lifecycle")
    if clause == "email-opt-out":
        # The evidence asserted is the fully reduced sequence. Reduction ends by
        # itself in a few seconds; a budget this large only keeps a loaded
        # machine from cutting it short (the last option given wins).
        without_lifecycle += ("--privacy-shrink-seconds=120",)
    if issubclass(mutant, JewelryAdapter):
        report = run_suite(pytester, "None", f"mutants.{mutant.__name__}", *without_lifecycle)
    else:
        report = run_suite(
            pytester, f"mutants.{mutant.__name__}", "JewelryAdapter", *without_lifecycle
        )
    failed = failed_clauses(report)
    # what else the mutant rightly breaks (a kept customer is still sent the policy notice)
    also = mutants.ALSO_CAUGHT_UNDER.get(mutant, set())
    assert also <= failed, report.data
    failed -= also
    if clause == "deletion" and "children" in failed:
        # The example deletes an account on learning its holder is a child, so a leak in
        # the delete path is also (rightly) caught by that children check, and only there.
        also_checks = {check for other in also for check in CHECKS_OF[other]}
        assert report.failing_checks() - CHECKS_OF["deletion"] - also_checks == {
            "test_child_learned_later_stops_processing"
        }
        failed.discard("children")
    if clause == "card-data":
        failed.discard("deletion")  # a kept card number is also residue after delete()
    assert failed == {clause}, report.data
    assert report.clause_statuses()[clause] == "failed"
    caught = report.findings(clause, status="failed")
    assert any(evidence in described(f) for f in caught), [described(f) for f in caught]
    examples = [f["example"] for f in caught]
    if mutant in mutants.FOUND_BY_SEARCH:
        assert any(e.startswith("generated scenario ") for e in examples), examples
        assert not any(e.startswith("fixed scenario ") for e in examples), examples
    elif clause.startswith("deletion"):
        fixed = "fixed scenario DeletionScenario(bystanders=1, history=["
        assert any(e.startswith(fixed) for e in examples), examples
    elif clause == "children":
        assert any(e.startswith("fixed scenario AgeCase(") for e in examples), examples
    elif clause == "email-opt-out":
        assert any(e.startswith("fixed sequence: register(p0)") for e in examples), examples


def fixed_sequence_finding(report: Report, clause: str) -> Finding:
    """The lifecycle's finding under ``clause`` from its fixed sequence. The search after
    it may file more under the clause (NoticeToSignupAddress: at times the notice reaching
    a deleted person), each with the generated sequence that shows its evidence."""
    lifecycle = [
        f
        for f in report.findings(clause, status="failed")
        if f["nodeid"].endswith("test_lifecycle_keeps_every_promise")
    ]
    for finding in lifecycle:
        assert finding["summary"].startswith("lifecycle: "), finding
        assert finding["example"].startswith(("fixed sequence: ", "generated sequence: "))
    (fixed,) = [f for f in lifecycle if f["example"].startswith("fixed sequence: ")]
    return fixed


@pytest.mark.parametrize("mutant", list(mutants.INTERLEAVED), ids=lambda m: m.__name__)
def test_interleaving_mutant_is_caught_by_the_lifecycle(
    pytester: pytest.Pytester, mutant: type
) -> None:
    clause, evidence, steps = mutants.INTERLEAVED[mutant]
    # The evidence asserted is the fully reduced fixed sequence: its reduction ends by
    # itself (0.5 to 3.5 s unloaded on 2026-12-03; NoticeToSignupAddress's 0.37 s on
    # 2026-12-04), and 12 s keeps a loaded machine from cutting it short. The same budget
    # bounds hypothesis's shrinking of what the search finds after it, which is not
    # asserted here and which some runs spend in full: under CI=true (hypothesis's ci
    # profile, derandomized) NoticeToSignupAddress's search always finds a notice missing
    # for an opted-out person, and the test took 38 to 39 s with 30 s.
    report = run_suite(
        pytester, f"mutants.{mutant.__name__}", "JewelryAdapter", "--privacy-shrink-seconds=12"
    )
    caught_by = {"test_lifecycle_keeps_every_promise", *mutants.ALSO_CAUGHT_BY.get(mutant, ())}
    assert report.failing_checks() == caught_by, report.data
    also = mutants.ALSO_BROKEN.get(mutant, set())
    assert {c for c, s in report.clause_statuses().items() if s == "failed"} == {clause} | also
    # the lifecycle files its failure under the clause that broke
    finding = fixed_sequence_finding(report, clause)
    assert evidence in described(finding)
    sequence = finding["example"].removeprefix("fixed sequence: ").split("; ")
    for step in steps:
        assert any(step in s for s in sequence), (step, sequence)
    # reduced from the fixed sequence's 21 steps to the few that matter
    assert len(sequence) <= len(steps) + 2, sequence


@pytest.mark.parametrize("mutant", list(mutants.SILENT_BY_DEFAULT), ids=lambda m: m.__name__)
def test_rules_stricter_than_the_policy_are_silent_by_default(
    pytester: pytest.Pytester, mutant: type
) -> None:
    """What these mutants break, the policy does not state: with the adapter settings at
    their defaults, the check that catches each on the example passes it."""
    check = mutants.SILENT_BY_DEFAULT[mutant]
    report = run_suite(
        pytester, f"mutants.{mutant.__name__}", "mutants.PolicyOnlyAdapter", "-k", check
    )
    assert report.check_statuses() == {check: "passed"}, report.data


@pytest.mark.parametrize("mutant", list(mutants.MANY_BUGS), ids=lambda m: m.__name__)
def test_one_finding_does_not_hide_another(pytester: pytest.Pytester, mutant: type) -> None:
    """Two bugs (no age gate, a card number in the payment log): the lifecycle fails
    children at its first ``register_child`` and goes on through the purchases, so the
    card number is reported too, each finding under its own clause with its own
    evidence and steps."""
    expected = mutants.MANY_BUGS[mutant]
    report = run_suite(pytester, f"mutants.{mutant.__name__}", "JewelryAdapter", "-k", "lifecycle")
    assert report.failing_checks() == {"test_lifecycle_keeps_every_promise"}, report.data
    assert failed_clauses(report) == set(expected), report.data
    for clause, (evidence, step) in expected.items():
        finding = fixed_sequence_finding(report, clause)
        assert evidence in described(finding), finding
        assert step in finding["example"], finding


@pytest.mark.parametrize(
    "mutant", list(mutants.CAUGHT_BY_THE_LIFECYCLE_TOO), ids=lambda m: m.__name__
)
def test_third_party_mutant_is_caught_by_the_lifecycle_too(
    pytester: pytest.Pytester, mutant: type
) -> None:
    clause, evidence = mutants.CAUGHT_BY_THE_LIFECYCLE_TOO[mutant]
    report = run_suite(pytester, f"mutants.{mutant.__name__}", "JewelryAdapter", "-k", "lifecycle")
    assert report.failing_checks() == {"test_lifecycle_keeps_every_promise"}, report.data
    assert failed_clauses(report) == {clause}, report.data
    fixed = [
        f
        for f in report.findings(clause, status="failed")
        if f["example"].startswith("fixed sequence: ")
    ]
    assert fixed, report.findings(clause)
    assert fixed[0]["summary"].startswith("lifecycle: "), fixed[0]
    assert evidence in described(fixed[0]), described(fixed[0])
