"""Each run of a check ends by deleting, through the adapter, the accounts it left alive.

One module serves every example of a check; clearing keeps the module about
as small as a fresh one, so campaigns and scans do not grow with the run.
It must never change a verdict: it runs once the run is judged, a failure in
it ends it quietly, and a module that hangs is not waited on again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from pytest_stexcel_privacy import ProcessorSink
from pytest_stexcel_privacy.checks.adapter_machine import AdapterMachine
from pytest_stexcel_privacy.checks.deletion import DeletionScenario, deletion_run
from pytest_stexcel_privacy.checks.email_opt_out import OptOutMachine
from pytest_stexcel_privacy.checks.lifecycle import FIXED_STEPS, PrivacyLifecycle, run_lifecycle
from pytest_stexcel_privacy.errors import AdapterCallTimeout
from pytest_stexcel_privacy.findings.outcomes import PrivacyViolation, violations_in
from pytest_stexcel_privacy.harness.holder import PrivacyHarness
from pytest_stexcel_privacy.harness.state_machines import FIXED, Step
from pytest_stexcel_privacy.observe.mail_sink import MailSink
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.settings import PrivacySettings
from toy_adapter import ToyAdapter

# The same examples every run, and no example database between them.
settings.register_profile(
    "clearing-tests",
    max_examples=8,
    stateful_step_count=12,
    derandomize=True,
    database=None,
    deadline=None,
)

REGISTER = {
    OptOutMachine: Step(OptOutMachine.register),
    PrivacyLifecycle: Step(PrivacyLifecycle.register_adult, age=30),
}
DELETE = {
    OptOutMachine: Step(OptOutMachine.delete, index=0),
    PrivacyLifecycle: Step(PrivacyLifecycle.delete, index=0),
}


class CountingToy(ToyAdapter):
    """The toy, counting its deletions; ``failing`` makes each one raise instead."""

    failing = False

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.deletions = 0

    def delete(self, account: Any) -> None:
        self.deletions += 1
        if self.failing:
            raise RuntimeError("the module cannot delete right now")
        super().delete(account)


class LeakyToy(ToyAdapter):
    """Deletes the row but keeps its e-mail in a graveyard table: residue."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        with sqlite3.connect(self.path) as db:
            db.execute("CREATE TABLE graveyard (email TEXT)")

    def delete(self, account: Any) -> None:
        with sqlite3.connect(self.path) as db:
            db.execute("INSERT INTO graveyard SELECT email FROM people WHERE id = ?", (account,))
        super().delete(account)


def open_harness(adapter: Any, sink: ProcessorSink | None = None, **options: Any) -> PrivacyHarness:
    privacy = PrivacySettings(
        mail_settle=0.0, shrink_seconds=10, hypothesis_profile="clearing-tests", **options
    )
    return PrivacyHarness.open(adapter, sink, None, privacy, "tests::clearing")


@pytest.fixture
def toy(tmp_path: Path) -> Iterator[tuple[CountingToy, PrivacyHarness]]:
    adapter = CountingToy(tmp_path)
    harness = open_harness(adapter)
    yield adapter, harness
    harness.close()


def people_rows(adapter: ToyAdapter) -> int:
    with sqlite3.connect(adapter.path) as db:
        count: int = db.execute("SELECT count(*) FROM people").fetchone()[0]
    return count


@pytest.mark.parametrize(
    "machine_class", [OptOutMachine, PrivacyLifecycle], ids=lambda c: c.__name__
)
def test_a_run_ends_by_deleting_whom_it_left_alive(
    toy: tuple[CountingToy, PrivacyHarness], machine_class: type[AdapterMachine]
) -> None:
    adapter, harness = toy
    machine = machine_class(harness, MailSink(), FIXED)
    for step in (REGISTER[machine_class], REGISTER[machine_class], DELETE[machine_class]):
        step.apply(machine)
    assert (people_rows(adapter), adapter.deletions) == (1, 1)
    machine.teardown()  # type: ignore[no-untyped-call, unused-ignore]
    assert (people_rows(adapter), adapter.deletions) == (0, 2)  # the deleted one not again
    assert harness.clears_out
    assert machine.steps[-1].startswith("delete(")  # clearing is not a step of the run


def test_a_failed_deletion_ends_the_clearing_for_the_rest_of_the_check(
    toy: tuple[CountingToy, PrivacyHarness],
) -> None:
    adapter, harness = toy
    first = PrivacyLifecycle(harness, MailSink(), FIXED)
    for _ in range(2):
        REGISTER[PrivacyLifecycle].apply(first)
    adapter.failing = True
    first.teardown()  # type: ignore[no-untyped-call, unused-ignore]
    assert (adapter.deletions, harness.clears_out, people_rows(adapter)) == (1, False, 2)
    adapter.failing = False
    second = PrivacyLifecycle(harness, MailSink(), FIXED)
    REGISTER[PrivacyLifecycle].apply(second)
    second.teardown()  # type: ignore[no-untyped-call, unused-ignore]
    assert (adapter.deletions, people_rows(adapter)) == (1, 3)


def test_a_module_that_hung_is_not_called_to_clear_up(tmp_path: Path) -> None:
    release = threading.Event()

    class Hanging(CountingToy):
        def register(self, person: Any) -> Any:
            account = super().register(person)
            release.wait(5)
            return account

    adapter = Hanging(tmp_path)
    harness = open_harness(adapter, call_timeout=0.2)
    try:
        machine = PrivacyLifecycle(harness, MailSink(), FIXED)
        with pytest.raises(AdapterCallTimeout):
            REGISTER[PrivacyLifecycle].apply(machine)
        release.set()
        machine.teardown()  # type: ignore[no-untyped-call, unused-ignore]
        assert (harness.clears_out, adapter.deletions) == (False, 0)
    finally:
        release.set()
        harness.close()


def lifecycle_verdict(
    tmp_path: Path, sink: ProcessorSink, clearing: bool
) -> list[tuple[object, ...]]:
    """The lifecycle's verdict on the leaky toy, as what does not vary between runs: each
    violation's clause, summary, steps and where its evidence is."""
    tmp_path.mkdir()
    adapter = LeakyToy(tmp_path)
    harness = open_harness(adapter, sink)
    harness.clears_out = clearing
    try:
        with pytest.raises(PrivacyViolation) as raised:
            run_lifecycle(harness, MailSink())
    finally:
        harness.close()
    return [
        (v.clause, v.summary, v.example, [(e.store, e.location) for e in v.evidence])
        for v in violations_in(raised.value)
    ]


def test_the_verdict_and_its_reduced_steps_do_not_depend_on_clearing(
    tmp_path: Path, processor_sink: ProcessorSink
) -> None:
    cleared = lifecycle_verdict(tmp_path / "cleared", processor_sink, clearing=True)
    kept = lifecycle_verdict(tmp_path / "kept", processor_sink, clearing=False)
    assert cleared == kept
    deletion = [v for v in cleared if v[0] == "deletion"]
    assert [(v[2].partition(":")[0], v[3]) for v in deletion] == [
        ("fixed sequence", [("toy-db", "graveyard.email")])
    ]
    assert len(deletion[0][2].split("; ")) < len(FIXED_STEPS)  # reduced
    assert any(v[2].startswith("generated sequence") for v in cleared)  # the search's too


def scenario() -> DeletionScenario:
    return DeletionScenario(
        (assemble(given="Ann", family="Lee"), assemble(given="Bo", family="Ek")), ()
    )


@pytest.fixture
def deletion_toy(
    tmp_path: Path, processor_sink: ProcessorSink
) -> Iterator[tuple[CountingToy, PrivacyHarness]]:
    adapter = CountingToy(tmp_path)
    harness = open_harness(adapter, processor_sink)
    yield adapter, harness
    harness.close()


def test_a_deletion_check_deletes_its_bystanders_once_it_has_judged(
    deletion_toy: tuple[CountingToy, PrivacyHarness],
) -> None:
    adapter, harness = deletion_toy
    with deletion_run(harness, scenario()) as run:
        assert people_rows(adapter) == 1  # the bystander, as the check judges the deletion
        assert len(run.before.of(run.scenario.people[1].canary)) > 0
    assert (people_rows(adapter), adapter.deletions) == (0, 2)
    with pytest.raises(PrivacyViolation), deletion_run(harness, scenario()):
        raise PrivacyViolation("deletion", "kept", ["kept"])
    assert people_rows(adapter) == 0


def test_a_deletion_check_that_broke_leaves_its_bystanders(
    deletion_toy: tuple[CountingToy, PrivacyHarness],
) -> None:
    adapter, harness = deletion_toy
    with pytest.raises(RuntimeError), deletion_run(harness, scenario()):
        raise RuntimeError("the check itself broke")
    assert (people_rows(adapter), adapter.deletions) == (1, 1)
