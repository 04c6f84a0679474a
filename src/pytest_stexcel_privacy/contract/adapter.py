"""The contract between an ERP module and the privacy suite.

An ERP developer subclasses :class:`PrivacyAdapter` and implements the
methods their module supports. The suite calls only these methods, so the
checks exercise the module's real code paths; it never edits a store itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from ..observe.mail_sink import MailMessage
    from ..people.persons import Card, Person
    from .stores import Store


class RegistrationRejected(Exception):
    """Raised by ``PrivacyAdapter.register`` when the module refuses a sign-up."""


@dataclass(frozen=True)
class Retention:
    """Data that deliberately survives deletion, and the policy exception allowing it.

    ``exception`` is an id from :data:`pytest_stexcel_privacy.clauses.DELETION_EXCEPTIONS`.
    ``locations`` are ``table.column`` names (SQL) or paths relative to the
    store root (files); shell-style wildcards are allowed inside a name but
    a retention may not cover a whole store. ``fields`` are the person's
    fields that may survive there (see ``Person.FIELDS``). Anything found
    outside these three coordinates is residue.
    """

    exception: str
    store: str
    locations: tuple[str, ...]
    fields: tuple[str, ...]
    reason: str
    expires: date | None = None

    def __post_init__(self) -> None:
        for name in ("locations", "fields"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value))


@dataclass(frozen=True)
class Processor:
    """A service provider the module shares personal data with.

    ``url`` is the base URL the module calls; a deletion request for the
    person must reach an address under it while ``delete`` runs.
    """

    name: str
    url: str
    region: str | None = None


@dataclass(frozen=True)
class Capability:
    name: str
    signature: str
    required: bool
    meaning: str


CAPABILITIES: dict[str, Capability] = {
    c.name: c
    for c in (
        Capability(
            "register",
            "register(person) -> account",
            True,
            "sign the person up through the module's real code path",
        ),
        Capability(
            "delete",
            "delete(account) -> None",
            True,
            "carry out a verified 'delete my data' request end to end",
        ),
        Capability(
            "opt_out",
            "opt_out(account) -> None",
            True,
            "opt the person out of marketing in their account settings",
        ),
        Capability(
            "unsubscribe",
            "unsubscribe(link) -> None",
            True,
            "follow an unsubscribe link taken from a marketing e-mail",
        ),
        Capability(
            "send_marketing",
            "send_marketing() -> None",
            True,
            "run a marketing campaign to everyone the module deems eligible",
        ),
        Capability(
            "send_transactional",
            "send_transactional(account) -> None",
            True,
            "send a non-marketing message such as an order confirmation",
        ),
        Capability(
            "stores", "stores() -> list[Store]", True, "list every place the module keeps data"
        ),
        Capability(
            "purchase", "purchase(account, card) -> None", False, "buy something with a card"
        ),
        Capability(
            "retentions",
            "retentions() -> list[Retention]",
            False,
            "declare data kept after deletion on purpose",
        ),
        Capability(
            "processors",
            "processors() -> list[Processor]",
            False,
            "list service providers that must be told to delete",
        ),
        Capability(
            "opt_in",
            "opt_in(account) -> None",
            False,
            "opt the person back in to marketing in their account settings",
        ),
        Capability(
            "update_profile",
            "update_profile(account, person) -> None",
            False,
            "save the person's (changed) name and e-mail through the profile page",
        ),
        Capability(
            "reimport",
            "reimport(person) -> account",
            False,
            "import the same person again, as a CRM sync or CSV import would",
        ),
        Capability(
            "classify_mail",
            "classify_mail(message) -> 'marketing' | 'transactional' | None",
            False,
            "say whether a sent message is marketing (overrides the default rule)",
        ),
        Capability(
            "update_birth_date",
            "update_birth_date(account, birth_date) -> None",
            False,
            "correct the account's birth date, as the module's profile page would",
        ),
        Capability(
            "deployment",
            "deployment() -> dict[str, str]",
            False,
            "name the production endpoints (database URLs, buckets, caches, APIs) or regions",
        ),
        Capability(
            "add_history",
            "add_history(account, kind, person) -> None",
            False,
            "give the account history of one of the adapter's history_kinds",
        ),
    )
}

_F = TypeVar("_F", bound=Callable[..., Any])


def _placeholder(func: _F) -> _F:
    func.__privacy_placeholder__ = True  # type: ignore[attr-defined]
    return func


class PrivacyAdapter:
    """Base class for an ERP module's adapter.

    Override the methods your module supports. A method left as it is here
    counts as missing: a check that needs a required one errors at setup with
    a message naming it; a check that needs an optional one is reported as
    *not applicable*, never as passed.

    ``history_kinds`` names the kinds of history ``add_history`` can create
    (orders, notes, design requests ...); the deletion property draws
    sequences of them so a person is deleted with a realistic past.
    ``time_zone``, ``leap_day_birthday`` and ``underage_handling`` describe
    the module's age rules to the ``children`` checks.
    """

    history_kinds: ClassVar[Sequence[str]] = ()
    #: The IANA zone whose calendar date the module judges ages by.
    time_zone: ClassVar[str] = "UTC"
    #: When someone born on 29 February turns a year older in other years.
    leap_day_birthday: ClassVar[str] = "march-1"  # or "february-28"
    #: What the module does on learning an account holder is under 13.
    underage_handling: ClassVar[str] = "delete"  # or "block": keep, but stop processing
    #: The header saying whether a message is marketing ("marketing", "transactional" ...).
    mail_category_header: ClassVar[str] = "X-Mail-Category"
    #: Whether a new account receives marketing until it opts out.
    marketing_by_default: ClassVar[bool] = True

    @_placeholder
    def register(self, person: Person) -> Any:
        raise NotImplementedError

    @_placeholder
    def delete(self, account: Any) -> None:
        raise NotImplementedError

    @_placeholder
    def opt_out(self, account: Any) -> None:
        raise NotImplementedError

    @_placeholder
    def unsubscribe(self, link: str) -> None:
        raise NotImplementedError

    @_placeholder
    def send_marketing(self) -> None:
        raise NotImplementedError

    @_placeholder
    def send_transactional(self, account: Any) -> None:
        raise NotImplementedError

    @_placeholder
    def stores(self) -> list[Store]:
        raise NotImplementedError

    @_placeholder
    def purchase(self, account: Any, card: Card) -> None:
        raise NotImplementedError

    @_placeholder
    def retentions(self) -> list[Retention]:
        raise NotImplementedError

    @_placeholder
    def processors(self) -> list[Processor]:
        raise NotImplementedError

    @_placeholder
    def opt_in(self, account: Any) -> None:
        raise NotImplementedError

    @_placeholder
    def update_profile(self, account: Any, person: Person) -> None:
        raise NotImplementedError

    @_placeholder
    def reimport(self, person: Person) -> Any:
        raise NotImplementedError

    @_placeholder
    def classify_mail(self, message: MailMessage) -> str | None:
        raise NotImplementedError

    @_placeholder
    def update_birth_date(self, account: Any, birth_date: date | None) -> None:
        raise NotImplementedError

    @_placeholder
    def deployment(self) -> dict[str, str]:
        raise NotImplementedError

    @_placeholder
    def add_history(self, account: Any, kind: str, person: Person) -> None:
        raise NotImplementedError


def implements(adapter: object, capability: str) -> bool:
    """Whether ``adapter`` really provides ``capability`` (not the base placeholder)."""
    method = getattr(adapter, capability, None)
    if method is None or not callable(method):
        return False
    return not getattr(method, "__privacy_placeholder__", False)
