"""What the correct modules' adapters share: a person as a sign-up form, and closing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, TypeVar

from pytest_stexcel_privacy import Person


class Closable(Protocol):
    def close(self) -> None: ...


A = TypeVar("A", bound=Closable)


def sign_up_form(person: Person) -> dict[str, Any]:
    """Every field a sign-up form asks for, as the person would fill it in."""
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "phone": person.phone,
        "employer": person.employer,
        "job_title": person.job_title,
        "birth_date": person.birth_date,
        "street": person.street,
        "city": person.city,
        "state": person.state,
        "postal_code": person.postal_code,
    }


def closing(adapter: A) -> Iterator[A]:
    """The body of a ``privacy_adapter`` fixture: the adapter, closed after the check."""
    try:
        yield adapter
    finally:
        adapter.close()
