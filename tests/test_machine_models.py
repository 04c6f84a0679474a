"""The state machines' shared model of people, and their respect for hypothesis's names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis.stateful import RuleBasedStateMachine, rule

from pytest_stexcel_privacy.checks.adapter_machine import AdapterMachine
from pytest_stexcel_privacy.checks.email_opt_out import OptOutMachine
from pytest_stexcel_privacy.checks.lifecycle import PrivacyLifecycle
from pytest_stexcel_privacy.checks.people_model import Member, changed_profile, named_person
from pytest_stexcel_privacy.harness.holder import PrivacyHarness
from pytest_stexcel_privacy.harness.state_machines import FIXED, Step
from pytest_stexcel_privacy.observe.mail_sink import MailSink
from pytest_stexcel_privacy.settings import PrivacySettings
from toy_adapter import ToyAdapter

MACHINES = [OptOutMachine, PrivacyLifecycle]


class Bare(RuleBasedStateMachine):
    @rule()
    def step(self) -> None:
        pass


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[PrivacyHarness]:
    privacy = PrivacySettings(mail_settle=0.0)
    opened = PrivacyHarness.open(ToyAdapter(tmp_path), None, None, privacy, "tests::toy")
    yield opened
    opened.close()


@pytest.mark.parametrize("machine_class", MACHINES, ids=lambda c: c.__name__)
def test_nothing_shadows_hypothesis(
    harness: PrivacyHarness, machine_class: type[AdapterMachine]
) -> None:
    machine = machine_class(harness, MailSink(), FIXED)
    bare = Bare()
    for name, value in vars(bare).items():
        assert type(getattr(machine, name)) is type(value), f"{name} replaces hypothesis's"
    ours = {name for cls in (machine_class, AdapterMachine) for name in vars(cls)}
    hypothesis_own = {n for n in dir(RuleBasedStateMachine) if not n.startswith("__")}
    assert ours & hypothesis_own == set()


@pytest.mark.parametrize(
    ("machine_class", "step", "label"),
    [
        (OptOutMachine, Step(OptOutMachine.register), "register(p0)"),
        (PrivacyLifecycle, Step(PrivacyLifecycle.register_adult, age=30), "register(p0, aged 30)"),
    ],
)
def test_both_machines_sign_people_up_into_one_model(
    harness: PrivacyHarness, machine_class: type[AdapterMachine], step: Step, label: str
) -> None:
    machine = machine_class(harness, MailSink(), FIXED)
    step.apply(machine)
    (member,) = machine.members
    assert isinstance(member, Member)
    assert (member.label, member.alive, member.subscribed, member.status) == (
        "p0",
        True,
        True,
        "subscribed",
    )
    assert member.account is not None
    assert machine.steps == [label]


def test_a_profile_change_keeps_every_address_and_version() -> None:
    person = named_person(0)
    member = Member("p0", person, account=1, subscribed=True)
    case = changed_profile(person, "email-case")
    assert case.email != person.email
    assert case.email.lower() == person.email.lower()
    member.now_holds(case)
    member.now_holds(moved := changed_profile(case, "email"))
    assert moved.email.endswith("@moved.example.com")
    assert member.versions == [person, case, moved]
    assert member.addresses == {person.email.lower(), moved.email.lower()}
    assert changed_profile(person, "name").first_name == f"{person.first_name}-Marie"
    with pytest.raises(ValueError, match="unknown profile change"):
        changed_profile(person, "age")


def test_names_cycle_but_people_never_repeat() -> None:
    first, again = named_person(0), named_person(5)
    assert first.first_name.split("-")[0] == again.first_name.split("-")[0] == "Ann"
    assert first.canary != again.canary


@pytest.mark.parametrize("survives", [False, True])
def test_a_sign_up_again_after_deletion_is_a_new_person_unless_opt_outs_survive(
    tmp_path: Path, survives: bool
) -> None:
    """The policy does not carry an opt-out past deletion: by default the one who signs up
    again is modelled per marketing_by_default (and the lifecycle never requires marketing
    to reach anyone, so a module may mail them or not)."""
    adapter = type("Toy", (ToyAdapter,), {"opt_out_survives_deletion": survives})(tmp_path)
    opened = PrivacyHarness.open(adapter, None, None, PrivacySettings(mail_settle=0.0), "t")
    try:
        machine = PrivacyLifecycle(opened, MailSink(), FIXED)
        Step(PrivacyLifecycle.register_adult, age=30).apply(machine)
        machine.members[0].subscribed = False  # opted out
        Step(PrivacyLifecycle.delete, index=0).apply(machine)
        Step(PrivacyLifecycle.register_again, index=0).apply(machine)
        again = machine.members[1]
        assert again.address == machine.members[0].address
        assert again.subscribed is not survives
        assert bool(machine.suppressed) is survives
    finally:
        opened.close()
