"""The state machines' shared model of people, and their respect for hypothesis's names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis.stateful import RuleBasedStateMachine, rule

from pytest_stexcel_privacy.checks.adapter_machine import AdapterMachine
from pytest_stexcel_privacy.checks.children import mail_trace
from pytest_stexcel_privacy.checks.email_opt_out import OptOutMachine
from pytest_stexcel_privacy.checks.lifecycle import PrivacyLifecycle
from pytest_stexcel_privacy.checks.mail_rules import MAIL_TO_REFUSED_CHILD
from pytest_stexcel_privacy.checks.people_model import (
    EMAIL_SPELLINGS,
    Member,
    changed_profile,
    named_person,
    normal_address,
    spelled,
)
from pytest_stexcel_privacy.contract.adapter import RegistrationRejected
from pytest_stexcel_privacy.errors import AdapterCallError, CheckInconclusive
from pytest_stexcel_privacy.harness.holder import PrivacyHarness
from pytest_stexcel_privacy.harness.state_machines import FIXED, Step
from pytest_stexcel_privacy.observe.mail_sink import MailSink, parse_message
from pytest_stexcel_privacy.people.persons import Person, assemble
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
    bases = [cls for cls in machine_class.__mro__ if issubclass(cls, AdapterMachine)]
    ours = {name for cls in bases for name in vars(cls)}
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


def test_an_opt_out_survives_deletion_only_for_the_address_held_when_deleted(
    tmp_path: Path,
) -> None:
    """A person who moved from address A to B, opted out and was deleted keeps B
    suppressed; A, which they had left, is whoever signs up with it next (a module that
    keeps only the current address suppressed is not wrong: the lifecycle once said so)."""
    adapter = type("Toy", (ToyAdapter,), {"opt_out_survives_deletion": True})(tmp_path)
    opened = PrivacyHarness.open(adapter, None, None, PrivacySettings(mail_settle=0.0), "t")
    try:
        machine = PrivacyLifecycle(opened, MailSink(), FIXED)
        Step(PrivacyLifecycle.register_adult, age=30).apply(machine)
        first = machine.members[0]
        left = first.address
        first.now_holds(changed_profile(first.person, "email"))  # as update_profile would
        first.subscribed = False  # opted out at the new address
        Step(PrivacyLifecycle.delete, index=0).apply(machine)
        assert machine.suppressed == {first.address} != {left}
        newcomer = machine._join("p1", named_person(1).changed(email=left))
        assert newcomer is not None
        assert newcomer.subscribed is True
        Step(PrivacyLifecycle.register_again, index=0).apply(machine)
        assert machine.members[-1].address == first.address
        assert machine.members[-1].subscribed is False
    finally:
        opened.close()


def test_every_spelling_is_the_same_address() -> None:
    email = named_person(0).email
    for spelling in EMAIL_SPELLINGS:
        assert normal_address(spelled(email, spelling)[0]) == email.lower()
    local = email.partition("@")[0]
    assert spelled(email, "mixed-case")[0] == f"Ann.{local.split('.')[1].capitalize()}@Example.com"
    assert spelled(email, "padded") == (f" {email} ", "e-mail padded with spaces")


class PickyToy(ToyAdapter):
    """Refuses an address with spaces around it; ``invalid`` says how."""

    invalid: type[Exception] = RegistrationRejected

    def register(self, person: Person) -> object:
        if person.email != person.email.strip():
            raise self.invalid("not a valid e-mail address")
        return super().register(person)


@pytest.mark.parametrize("invalid", [RegistrationRejected, ValueError])
def test_a_refused_spelling_is_not_driven_and_the_address_signs_up_as_it_was(
    tmp_path: Path, invalid: type[Exception]
) -> None:
    adapter = type("Picky", (PickyToy,), {"opt_out_survives_deletion": True, "invalid": invalid})
    opened = PrivacyHarness.open(
        adapter(tmp_path), None, None, PrivacySettings(mail_settle=0.0), "t"
    )
    try:
        machine = PrivacyLifecycle(opened, MailSink(), FIXED)
        Step(PrivacyLifecycle.register_adult, age=30).apply(machine)
        machine.members[0].subscribed = False  # opted out
        Step(PrivacyLifecycle.delete, index=0).apply(machine)
        Step(PrivacyLifecycle.register_again, index=0, spelling="padded").apply(machine)
        assert machine.steps[-2].endswith("e-mail padded with spaces) refused, not driven")
        assert machine.steps[-1] == "register(p1, p0's e-mail)"
        again = machine.members[1]
        assert again.person.email == machine.members[0].person.email
        assert again.subscribed is False  # the suppression holds for the address
    finally:
        opened.close()


@pytest.mark.parametrize(
    ("invalid", "raised"),
    [(RegistrationRejected, CheckInconclusive), (ValueError, AdapterCallError)],
)
def test_a_refused_address_as_it_is_is_never_passed_over(
    tmp_path: Path, invalid: type[Exception], raised: type[Exception]
) -> None:
    class Refusing(ToyAdapter):
        def register(self, person: Person) -> object:
            raise invalid("no")

    opened = PrivacyHarness.open(
        Refusing(tmp_path), None, None, PrivacySettings(mail_settle=0.0), "t"
    )
    try:
        machine = PrivacyLifecycle(opened, MailSink(), FIXED)
        with pytest.raises(raised):
            Step(PrivacyLifecycle.register_adult, age=30).apply(machine)
    finally:
        opened.close()


def test_a_message_to_or_about_a_refused_child_is_a_trace() -> None:
    child = assemble(given="Casey", family="Young")
    other = named_person(0)

    def message(to: str, body: str) -> bytes:
        return f"To: {to}\r\nSubject: Welcome\r\n\r\n{body}\r\n".encode()

    to_child = parse_message(1, "shop@x", [child.email.upper()], message(child.email, "Hi"))
    trace = mail_trace(to_child, child, "register()")
    assert trace is not None
    assert trace.location == MAIL_TO_REFUSED_CHILD
    assert "subject 'Welcome'" in trace.text
    assert child.email not in trace.text
    about = parse_message(2, "shop@x", [other.email], message(other.email, child.last_name))
    found = mail_trace(about, child, "register()")
    assert found is not None
    assert "carrying last_name" in found.text
    unrelated = parse_message(3, "shop@x", [other.email], message(other.email, "Hi"))
    assert mail_trace(unrelated, child, "register()") is None


class UniqueAddresses(ToyAdapter):
    """Refuses an e-mail change to an address another account holds, as real modules do."""

    def update_profile(self, account: object, person: Person) -> None:
        raise ValueError("this e-mail address belongs to another account")


def test_a_change_to_an_address_another_live_member_holds_is_not_driven(
    tmp_path: Path,
) -> None:
    """A module may rightly refuse it: driving it made the example's lifecycle ERROR."""
    opened = PrivacyHarness.open(
        UniqueAddresses(tmp_path), None, None, PrivacySettings(mail_settle=0.0), "t"
    )
    try:
        machine = PrivacyLifecycle(opened, MailSink(), FIXED)
        Step(PrivacyLifecycle.register_adult, age=30).apply(machine)
        Step(PrivacyLifecycle.register_adult, age=40).apply(machine)
        first, second = machine.members
        second.person = second.person.changed(
            email=" " + changed_profile(first.person, "email").email.upper()
        )
        steps = list(machine.steps)
        machine._change_profile(first, "email")  # would raise if it reached the module
        assert machine.steps == steps
        assert first.person.email != second.person.email.strip()
    finally:
        opened.close()


def test_what_a_deleted_member_leaves_to_the_one_who_took_their_address_is_not_theirs(
    harness: PrivacyHarness,
) -> None:
    """The e-mail signed up again (its canary inside it) belongs to the new member: a site
    the old one disconnected may receive it when the new one connects."""
    machine = PrivacyLifecycle(harness, MailSink(), FIXED)
    Step(PrivacyLifecycle.register_adult, age=30).apply(machine)
    Step(PrivacyLifecycle.delete, index=0).apply(machine)
    Step(PrivacyLifecycle.register_again, index=0).apply(machine)
    gone, again = machine.members
    assert again.alive
    assert again.address == gone.address
    judged = {n.key for n in machine._needles([gone])}
    assert not [key for key in judged if key in again.person.email.lower().encode()]
    assert any(n.field == "phone" for n in machine._needles([gone]))  # the rest still counts
