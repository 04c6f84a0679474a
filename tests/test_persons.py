"""Synthetic persons: complete, canary-marked, unique, and masked in output."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from pytest_stexcel_privacy import Person
from pytest_stexcel_privacy.people.factories import PersonFactory
from pytest_stexcel_privacy.people.persons import FIELD_MARKS, MINT_ATTEMPTS, _Mint, luhn_valid
from pytest_stexcel_privacy.people.strategies import persons


def test_factory_fills_every_policy_field(person_factory: type[PersonFactory]) -> None:
    person = person_factory()
    for field in (
        "first_name",
        "last_name",
        "email",
        "phone",
        "street",
        "city",
        "state",
        "postal_code",
        "employer",
        "job_title",
    ):
        assert getattr(person, field), field
    assert isinstance(person.birth_date, date)
    assert person.card.number.startswith("400000")
    assert re.fullmatch(r"\([2-9][0-9]{2}\) 555-01[0-9]{2}", person.phone), "fictional range"
    assert person.phone[2:4] != "11", "N11 is a service code"
    assert luhn_valid(person.card.number)
    for field in FIELD_MARKS:
        assert person.mark(field).lower() in person.value(field).lower(), field


def test_factory_age_parameter() -> None:
    today = date.today()
    for age in (0, 12, 13, 40):
        born = PersonFactory(age=age).birth_date
        years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        assert years == age


def test_identities_never_repeat() -> None:
    people = PersonFactory.build_batch(300)
    for attribute in ("canary", "phone", "email"):
        assert len({getattr(p, attribute) for p in people}) == 300, attribute
    assert len({p.card.number for p in people}) == 300


def test_an_exhausted_mint_says_so_instead_of_spinning() -> None:
    mint = _Mint()
    assert mint._unique(lambda: "only") == "only"
    with pytest.raises(RuntimeError, match=f"drew {MINT_ATTEMPTS:,} values already handed out"):
        mint._unique(lambda: "only")


RESEEDED = """
from pytest_stexcel_privacy.people.persons import assemble, reseed_for
reseed_for({check!r}, {seed!r})
print(assemble(given="Ada", family="Wire").email)
"""


def minted_email(check: str, seed: str | None) -> str:
    """The e-mail of the first person a fresh process mints for ``check``."""
    probe = RESEEDED.format(check=check, seed=seed)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout


def test_a_seeded_check_mints_the_same_persons_in_every_process() -> None:
    first = minted_email("t.py::test_a", "7")
    assert minted_email("t.py::test_a", "7") == first
    assert minted_email("t.py::test_b", "7") != first
    assert minted_email("t.py::test_a", "8") != first
    assert minted_email("t.py::test_a", None) != minted_email("t.py::test_a", None)


def test_repr_masks_personal_values() -> None:
    person = PersonFactory()
    text = repr(person) + repr(person.card)
    for field in ("first_name", "last_name", "email", "phone", "street"):
        assert person.value(field) not in text
    assert person.card.number not in text


@settings(max_examples=200)
@given(st.data())
def test_strategy_reaches_the_hard_cases(data: st.DataObject) -> None:
    person = data.draw(persons())
    assert isinstance(person, Person)
    assert person.email.count("@") == 1
    assert person.email.isascii()


@pytest.mark.parametrize(
    ("case", "condition"),
    [
        ("apostrophe", lambda p: "'" in p.first_name or "'" in p.last_name),
        ("non-ascii letters", lambda p: not p.full_name.isascii()),
        ("long address", lambda p: len(p.street) > 60),
        ("plus addressing", lambda p: "+" in p.email.split("@")[0]),
        ("hyphenated name", lambda p: "-" in p.first_name.rsplit("-", 1)[0]),
    ],
)
def test_strategy_reaches_each_hard_case(case: str, condition: Callable[[Person], bool]) -> None:
    found = find(
        persons(),
        condition,
        settings=settings(max_examples=2000, database=None, phases=[Phase.generate]),
    )
    assert condition(found), case
