"""What the correct modules' adapters share: sign-up forms, refusals, consent, closing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, TypeVar

from pytest_stexcel_privacy import Person, PrivacyAdapter, RegistrationRejected

from .shared import RegistrationRefused

# What both modules' sign-up forms ask for, named as on Person.
FORM_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "employer",
    "job_title",
    "birth_date",
    "street",
    "city",
    "state",
    "postal_code",
)


class Closable(Protocol):
    def close(self) -> None: ...


A = TypeVar("A", bound=Closable)


def sign_up_form(person: Person) -> dict[str, Any]:
    """The sign-up form as the person would fill it in."""
    return {name: getattr(person, name) for name in FORM_FIELDS}


class FormAdapter(PrivacyAdapter):
    """Sign-up, import and consent for a module whose forms take :data:`FORM_FIELDS`:
    a subclass names the module's own calls; a refusal becomes RegistrationRejected."""

    def sign_up(self, form: dict[str, Any]) -> Any:
        raise NotImplementedError

    def import_form(self, form: dict[str, Any]) -> Any:
        raise NotImplementedError

    def set_marketing(self, account: Any, wanted: bool) -> None:
        raise NotImplementedError

    def register(self, person: Person) -> Any:
        try:
            return self.sign_up(sign_up_form(person))
        except RegistrationRefused as exc:
            raise RegistrationRejected(str(exc)) from exc

    def reimport(self, person: Person) -> Any:
        return self.import_form(sign_up_form(person))

    def opt_out(self, account: Any) -> None:
        self.set_marketing(account, False)

    def opt_in(self, account: Any) -> None:
        self.set_marketing(account, True)


def closing(adapter: A) -> Iterator[A]:
    """The body of a ``privacy_adapter`` fixture: the adapter, closed after the check."""
    try:
        yield adapter
    finally:
        adapter.close()
