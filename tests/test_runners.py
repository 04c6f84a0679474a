"""The property and state-machine runners, driven by small fake checks: no adapter needed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from pytest_stexcel_privacy.findings.acceptance import Acceptance
from pytest_stexcel_privacy.findings.evidence import Evidence
from pytest_stexcel_privacy.findings.outcomes import PrivacyViolation
from pytest_stexcel_privacy.harness.holder import PrivacyHarness
from pytest_stexcel_privacy.harness.properties import run_property
from pytest_stexcel_privacy.harness.state_machines import (
    FIXED,
    GENERATED,
    RecordingMachine,
    Step,
    replay,
    run_state_machine,
)
from pytest_stexcel_privacy.settings import PrivacySettings

# No example database: these runs must not depend on, or leave, earlier failures.
settings.register_profile("runner-tests", max_examples=30, database=None, deadline=None)


def harness(*acceptances: Acceptance) -> PrivacyHarness:
    """A harness whose adapter, stores and sinks are absent: the runners never touch them."""
    privacy = PrivacySettings(
        shrink_seconds=5, hypothesis_profile="runner-tests", acceptances=acceptances
    )
    return PrivacyHarness(None, None, None, None, privacy, "tests::fake", "deletion")


def accepting(pattern: str) -> Acceptance:
    return Acceptance("deletion", pattern, "known, fixed in the next release")


def accepted_as_deletion(text: str) -> Evidence:
    """Evidence as the filter records it: with the clause it was accepted under."""
    return Evidence(text, clause="deletion")


def kept(*values: object) -> PrivacyViolation:
    return PrivacyViolation("deletion", "kept", [f"kept {v}" for v in values])


# --- the property runner --------------------------------------------------------------------


def test_the_floor_runs_first_and_a_failure_there_needs_no_search() -> None:
    run = harness()
    seen: list[int] = []

    def body(number: int) -> None:
        seen.append(number)
        if number == 2:
            raise kept(number)

    with pytest.raises(PrivacyViolation) as raised:
        run_property(run, st.integers(), body, floor=[1, 2, 3])
    assert seen == [1, 2]
    assert raised.value.example == "fixed scenario 2"
    assert (run.statistics.fixed_examples, run.statistics.generated_examples) == (2, 0)


def test_a_generated_failure_names_the_shrunk_example() -> None:
    run = harness()

    def body(number: int) -> None:
        if number >= 7:
            raise kept(number)

    with pytest.raises(PrivacyViolation) as raised:
        run_property(run, st.integers(0, 1000), body, floor=[0])
    assert raised.value.example == "generated scenario 7"
    assert raised.value.evidence == (Evidence("kept 7"),)
    assert run.statistics.generated_examples > 1
    assert run.statistics.failing_examples >= 1


def test_accepted_evidence_passes_each_example_and_the_rest_still_fails() -> None:
    run = harness(accepting("kept 1"))

    def body(number: int) -> None:
        raise kept(1) if number < 5 else kept(1, number)

    with pytest.raises(PrivacyViolation) as raised:
        run_property(run, st.integers(0, 10), body, floor=[0, 1])
    assert raised.value.evidence == (Evidence("kept 5"),)
    # recorded once, however often it was seen
    assert run.accepted == [accepted_as_deletion("kept 1")]
    assert run.statistics.fixed_examples == 2  # an accepted floor example does not stop the run


# --- the state-machine runner ---------------------------------------------------------------


class Counter(RuleBasedStateMachine):
    """Breaks when its count reaches ten; records steps and invariant checks as a check does."""

    made: ClassVar[list[Counter]] = []

    def __init__(self, run: PrivacyHarness, origin: str) -> None:
        super().__init__()
        self.run, self.origin = run, origin
        self.count = 0
        self.steps: list[str] = []
        self.checks = 0
        self.torn_down = False
        Counter.made.append(self)

    @rule(number=st.integers(0, 5))
    def add(self, number: int) -> None:
        self.steps.append(f"add({number})")
        self.count += number

    @invariant()
    def below_ten(self) -> None:
        self.checks += 1
        if self.count >= 10:
            example = f"{self.origin}: " + "; ".join(self.steps)
            self.run.acceptance.enforce(
                PrivacyViolation("deletion", "counted too far", [f"count {self.count}"], example)
            )

    def teardown(self) -> None:
        self.torn_down = True


@pytest.fixture(autouse=True)
def _forget_machines() -> None:
    Counter.made.clear()


def counters(run: PrivacyHarness) -> Callable[[str], Counter]:
    def factory(origin: str) -> Counter:
        return Counter(run, origin)

    return factory


def test_replay_checks_the_invariants_before_and_after_each_step_and_tears_down() -> None:
    run = harness()
    violation, ran = replay(counters(run), [Step(Counter.add, number=3)] * 2)
    (machine,) = Counter.made
    assert (violation, ran) == (None, 2)
    assert (machine.origin, machine.checks, machine.torn_down) == (FIXED, 3, True)


def test_replay_stops_at_the_first_violation() -> None:
    run = harness()
    steps = [Step(Counter.add, number=5)] * 4
    violation, ran = replay(counters(run), steps)
    assert ran == 2
    assert violation is not None
    assert violation.example == "fixed sequence: add(5); add(5)"
    assert Counter.made[0].torn_down


def test_a_failing_fixed_sequence_is_reduced_and_the_search_still_runs() -> None:
    run = harness()
    steps = [Step(Counter.add, number=n) for n in (5, 1, 2, 5)]
    with pytest.raises(PrivacyViolation) as raised:
        run_state_machine(run, counters(run), steps)
    assert raised.value.example == "fixed sequence: add(5); add(5)"
    # the search still ran, within its budget, and found only what the fixed sequence
    # showed (shrunk to the same count): not reported twice
    assert run.statistics.fixed_examples == 1
    assert 0 < run.statistics.generated_examples <= 1000
    assert raised.value.further_violations == ()


def test_a_passing_fixed_sequence_is_followed_by_the_search() -> None:
    run = harness()
    with pytest.raises(PrivacyViolation) as raised:
        run_state_machine(run, counters(run), [Step(Counter.add, number=1)])
    assert raised.value.example.startswith(f"{GENERATED}: add(")
    assert run.statistics.fixed_examples == 1
    assert run.statistics.generated_examples == len(Counter.made) - 1
    assert all(m.origin == GENERATED for m in Counter.made[1:])


def test_an_accepted_violation_lets_the_machine_go_on() -> None:
    run = harness(accepting("count 1?"))  # ten to nineteen
    steps = [Step(Counter.add, number=n) for n in (5, 5, 5, 5, 5)]
    with pytest.raises(PrivacyViolation) as raised:
        run_state_machine(run, counters(run), steps)
    assert raised.value.evidence == (Evidence("count 20"),)
    # the fixed sequence's first; the search after it accepts more
    assert run.accepted[:2] == [accepted_as_deletion("count 10"), accepted_as_deletion("count 15")]


class Promises(RecordingMachine):
    """Two promises, checked after every step as the lifecycle does: the count stays
    under ten (deletion) and under twenty (card-data); ``press`` breaks deletion
    with its own evidence. Violations are recorded, the machine goes on."""

    def __init__(self, origin: str) -> None:
        super().__init__()
        self.origin = origin
        self.count = 0
        self.steps: list[str] = []

    def fail(self, clause: str, evidence: str) -> None:
        example = f"{self.origin}: " + "; ".join(self.steps)
        self.record(PrivacyViolation(clause, "broken", [evidence], example))

    @rule(number=st.integers(0, 5))
    def add(self, number: int) -> None:
        self.steps.append(f"add({number})")
        self.count += number

    @rule(button=st.sampled_from("ab"))
    def press(self, button: str) -> None:
        self.steps.append(f"press({button})")
        self.fail("deletion", f"pressed {button}")

    @invariant()
    def below(self) -> None:
        if self.count >= 10:
            self.fail("deletion", "count ten or more")
        if self.count >= 20:
            self.fail("card-data", "count twenty or more")


def test_a_machine_goes_on_after_a_violation_and_reports_another_clause() -> None:
    steps = [Step(Promises.add, number=5)] * 4 + [Step(Promises.press, button="a")]
    violation, ran = replay(Promises, steps)
    assert ran == 2  # the steps up to the first violation; the run went on past it
    assert violation is not None
    assert [(v.clause, v.evidence, v.example) for v in violation.violations()] == [
        ("deletion", (Evidence("count ten or more"),), "fixed sequence: add(5); add(5)"),
        (
            "card-data",
            (Evidence("count twenty or more"),),
            "fixed sequence: add(5); add(5); add(5); add(5)",
        ),
    ]  # one per clause, the first: press(a) showed deletion again and was not kept
    assert "[card-data] broken" in str(violation)


def test_the_other_clause_survives_the_reduction_of_the_first() -> None:
    run = harness()
    steps = [Step(Promises.add, number=n) for n in (5, 1, 5, 4, 5)]
    with pytest.raises(PrivacyViolation) as raised:
        run_state_machine(run, Promises, steps)
    card = raised.value.further_violations[0]  # then what the search found (press)
    assert (raised.value.clause, raised.value.example) == (
        "deletion",
        "fixed sequence: add(5); add(5)",
    )
    assert (card.clause, card.evidence, card.example) == (
        "card-data",
        (Evidence("count twenty or more"),),
        "fixed sequence: add(5); add(1); add(5); add(4); add(5)",
    )


def test_after_a_failing_fixed_sequence_the_search_finds_another_failure() -> None:
    run = harness()
    with pytest.raises(PrivacyViolation) as raised:
        run_state_machine(run, Promises, [Step(Promises.press, button="a")])
    fixed, *found = raised.value.violations()
    assert (fixed.evidence, fixed.example) == ((Evidence("pressed a"),), "fixed sequence: press(a)")
    # what the fixed sequence showed is not reported twice; the search's own failures are
    assert found, "the search found nothing else"
    assert all(v.example.startswith(f"{GENERATED}: ") for v in found)
    assert Evidence("pressed a") not in {e for v in found for e in v.evidence}
    assert run.statistics.generated_examples > 0


class Exports(RecordingMachine):
    """A module that leaks into a dated export (one place, whatever the day) and, at one
    step, into two places at once."""

    def __init__(self, origin: str) -> None:
        super().__init__()
        self.origin = origin
        self.steps: list[str] = []

    def fail(self, location: str, summary: str = "lifecycle: kept") -> None:
        example = f"{self.origin}: " + "; ".join(self.steps)
        evidence = Evidence(location, "erp-files", location, field="email", form="exact")
        self.record(PrivacyViolation("deletion", summary, [evidence], example))

    @rule(day=st.integers(1, 28))
    def export(self, day: int) -> None:
        self.steps.append(f"export({day})")
        self.fail(f"exports/customers-2026-12-{day:02d}.csv")

    @rule()
    def backup(self) -> None:
        self.steps.append("backup()")
        self.fail("backup/customers.csv")
        self.fail("backup/orders.csv", "lifecycle: copied to the orders")
        self.fail("backup/customers.csv")  # shown already: nothing more to say


def test_what_a_clause_showed_after_the_same_step_is_one_finding() -> None:
    steps = [Step(Exports.backup), Step(Exports.export, day=3), Step(Exports.backup)]
    violation, ran = replay(Exports, steps)
    assert ran == 1
    assert violation is not None
    assert violation.violations() == (violation,)
    # both places of the first backup(); not the export of a later step, nor the second
    # backup() again
    assert [e.location for e in violation.evidence] == [
        "backup/customers.csv",
        "backup/orders.csv",
    ]
    # what each said, the step's own prefix once
    assert violation.summary == "lifecycle: kept; copied to the orders"


def test_the_search_does_not_report_the_same_place_on_another_day_again() -> None:
    run = harness()
    with pytest.raises(PrivacyViolation) as raised:
        run_state_machine(run, Exports, [Step(Exports.export, day=3)])
    fixed, *found = raised.value.violations()
    assert fixed.example == "fixed sequence: export(3)"
    # the search ran and found the backup, a place the fixed sequence did not show; an
    # export of any other day is the same place, not a further finding
    assert run.statistics.generated_examples > 0
    assert found, "the search found nothing else"
    places = {e.location for v in found for e in v.evidence}
    assert places == {"backup/customers.csv", "backup/orders.csv"}, places


def test_a_place_is_the_same_whatever_its_digits_but_its_key_stays_exact() -> None:
    def leak(location: str, field: str = "email") -> Evidence:
        return Evidence(location, "erp-files", location, field=field, form="exact")

    assert leak("exports/2026-12-03.csv").place_key == leak("exports/2027-01-02.csv").place_key
    assert leak("exports/2026-12-03.csv").key != leak("exports/2027-01-02.csv").key
    assert leak("exports/a1.csv").place_key != leak("exports/a1.csv", "phone").place_key
    assert leak("exports/a1.csv").place_key != leak("export/a1.csv").place_key
    assert leak("logs/app.log").place_key != leak("logs/app.log.1").place_key
    assert leak("audit_2025.payload").place_key == leak("audit_2026.payload").place_key
    # a single digit more often names another thing than another instance of one
    assert leak("customers.address_line1").place_key != leak("customers.address_line2").place_key
    # another host, path or mail rule is another destination, digits and all
    for store in ("network", "providers", "mail"):
        one, other = Evidence("x", store, "10.0.0.12"), Evidence("x", store, "10.0.0.13")
        assert one.place_key != other.place_key, store
    # evidence with no location is known by its text, digits and all
    assert Evidence("count 10").place_key != Evidence("count 15").place_key


def test_the_step_of_a_fixed_sequence_names_its_rule() -> None:
    assert repr(Step(Counter.add, number=3)) == "add(number=3)"


# --- the acceptance filter ------------------------------------------------------------------


def test_acceptance_takes_out_what_it_covers_and_raises_the_rest() -> None:
    run = harness(accepting("kept a*"))
    with pytest.raises(PrivacyViolation) as raised:
        run.acceptance.enforce(kept("ann", "bo"))
    assert raised.value.evidence == (Evidence("kept bo"),)
    assert run.accepted == [accepted_as_deletion("kept ann")]
    run.acceptance.enforce(kept("ann", "alice"))  # all of it accepted: returns
    assert run.accepted == [accepted_as_deletion("kept ann"), accepted_as_deletion("kept alice")]


def test_acceptance_covers_only_its_clause_and_only_until_it_expires() -> None:
    expired = Acceptance("deletion", "kept *", "was fixed", expires=date(2020, 1, 1))
    other_clause = Acceptance("card-data", "kept *", "another clause's finding")
    run = harness(expired, other_clause)
    with pytest.raises(PrivacyViolation):
        run.acceptance.enforce(kept("ann"))
    with pytest.raises(PrivacyViolation):  # nothing to accept: never passes silently
        run.acceptance.enforce(PrivacyViolation("deletion", "kept"))
    assert run.accepted == []
