"""The contract between an ERP module and the privacy suite.

An ERP developer subclasses :class:`PrivacyAdapter` and implements the
methods their module supports. The suite calls only these methods, so the
checks exercise the module's real code paths; it never edits a store itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar

from ..people.ages import LeapConvention
from .profile import AdapterProfile, UnderageHandling

if TYPE_CHECKING:
    from ..observe.mail_sink import MailMessage
    from ..people.persons import Card, Person
    from .stores import Store


class RegistrationRejected(Exception):
    """Raised by ``PrivacyAdapter.register`` when the module refuses a sign-up."""


class RequestRefused(Exception):
    """Raised by an adapter method when the module rightly declines a customer's request:
    a second "Shine the Light" request in one calendar year, from a module declaring
    ``disclosure_requests_limited``."""


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


# The purposes "Sharing Information with Third Parties" lets the module share data for.
STATISTICAL_ANALYSIS = "statistical-analysis"
MAIL = "mail"  # sending e-mail or postal mail
CUSTOMER_SUPPORT = "customer-support"
DELIVERIES = "deliveries"
PURPOSES: tuple[str, ...] = (STATISTICAL_ANALYSIS, MAIL, CUSTOMER_SUPPORT, DELIVERIES)


@dataclass(frozen=True)
class Processor:
    """A service provider (or a third-party site a person can connect) the module shares
    personal data with.

    ``url`` is the base URL the module calls; a deletion request for the
    person must reach an address under it while ``delete`` runs (not for a
    ``connectable`` site). ``purpose`` is one of :data:`PURPOSES`; ``fields``
    names the person's fields (``Person`` attributes, ``card_number``, the
    adapter's ``extra_fields``) it receives, None for any; ``bulk`` says it
    may receive many persons' data in one request; ``connectable`` marks a
    third-party site ``connect_third_party`` links an account to.
    """

    name: str
    url: str
    region: str | None = None
    purpose: str | None = None
    fields: tuple[str, ...] | None = None
    bulk: bool = False
    connectable: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.fields, str):
            object.__setattr__(self, "fields", (self.fields,))
        elif self.fields is not None:
            object.__setattr__(self, "fields", tuple(self.fields))


Account: TypeAlias = Any
"""Whatever ``register`` returns to identify an account (an id, a model instance ...);
the suite hands it back, unchanged, to the methods that act on that account.

It is never None (``register`` returning None errors, naming it). A method acting on
an account returns None once done and raises when the module cannot do it; returning
False, an exception or an HTTP response with an error status counts as raising."""

_F = TypeVar("_F", bound=Callable[..., Any])
_PLACEHOLDER = "__privacy_placeholder__"
REQUIRED, OPTIONAL = "required", "optional"


def _placeholder(kind: str) -> Callable[[_F], _F]:
    """Mark a base method as a capability an adapter overrides, and whether it must."""

    def mark(method: _F) -> _F:
        setattr(method, _PLACEHOLDER, kind)
        return method

    return mark


_required = _placeholder(REQUIRED)
_optional = _placeholder(OPTIONAL)


class PrivacyAdapter:
    """Base class for an ERP module's adapter.

    Override the methods your module supports. A method left as it is here
    counts as missing: a check that needs a required one errors at setup with
    a message naming it; a check that needs an optional one is reported as
    *not applicable*, never as passed. Each method's docstring is the contract
    the suite holds it to.

    The class attributes below describe the module to the checks; what each
    means, and which values it may take, is documented on
    :class:`~pytest_stexcel_privacy.contract.profile.AdapterProfile`, which
    checks them at setup.
    """

    time_zone: ClassVar[str] = AdapterProfile.time_zone
    leap_day_birthday: ClassVar[LeapConvention] = AdapterProfile.leap_day_birthday
    underage_handling: ClassVar[UnderageHandling] = AdapterProfile.underage_handling
    marketing_by_default: ClassVar[bool] = AdapterProfile.marketing_by_default
    mail_category_header: ClassVar[str] = AdapterProfile.mail_category_header
    history_kinds: ClassVar[Sequence[str]] = AdapterProfile.history_kinds
    birth_date_required: ClassVar[bool] = AdapterProfile.birth_date_required
    allowed_subprocesses: ClassVar[tuple[str, ...]] = AdapterProfile.allowed_subprocesses
    extra_fields: ClassVar[Mapping[str, str]] = dict(AdapterProfile.extra_fields)
    disclosure_requests_limited: ClassVar[bool] = AdapterProfile.disclosure_requests_limited

    def release_thread(self) -> None:
        """Release what an adapter call left bound to the suite's worker thread.

        Every adapter call bounded by ``--privacy-call-timeout`` runs on a worker
        thread of its own; the suite calls this on that thread once the call has
        returned or raised. An ORM that binds connections and transactions to a
        thread (Django, Tryton, Odoo) closes them here, or they stay open after the
        thread ends (an uncommitted transaction, a test database that cannot be
        dropped). Not a capability: the default does nothing.
        """

    @_required
    def register(self, person: Person) -> Account:
        """Sign the person up through the module's real code path.

        Return what identifies the new account. Raise ``RegistrationRejected``
        when the module refuses the sign-up (someone under 13, say).
        """
        raise NotImplementedError

    @_required
    def delete(self, account: Account) -> None:
        """Carry out a verified "delete my data" request end to end.

        Everything the module does on such a request happens before this
        returns: rows, files, caches, and the requests to its service providers.
        Raise when the module cannot carry it out (an account it cannot find, say).
        """
        raise NotImplementedError

    @_required
    def opt_out(self, account: Account) -> None:
        """Opt the person out of marketing in their account settings."""
        raise NotImplementedError

    @_required
    def unsubscribe(self, link: str) -> None:
        """Follow an unsubscribe link taken from a marketing e-mail.

        ``link`` is an https URL or a mailto address from the message's body or
        its ``List-Unsubscribe`` header; call the endpoint the link leads to.
        """
        raise NotImplementedError

    @_required
    def send_marketing(self) -> None:
        """Run a marketing campaign to everyone the module deems eligible."""
        raise NotImplementedError

    @_required
    def send_transactional(self, account: Account) -> None:
        """Send a non-marketing message such as an order confirmation."""
        raise NotImplementedError

    @_required
    def stores(self) -> list[Store]:
        """List every place the module keeps data.

        ``SQLStore(url_or_engine)``, ``FileStore(root)``, ``RedisStore(url)``,
        ``S3Store(bucket)``, each with ``name=`` and ``region=``; residue is
        searched for in all of them, so a store left out is a blind spot.
        """
        raise NotImplementedError

    @_optional
    def purchase(self, account: Account, card: Card) -> None:
        """Buy something with the person's card.

        The card number may be needed while the purchase runs, never after.
        """
        raise NotImplementedError

    @_optional
    def retentions(self) -> list[Retention]:
        """Declare data kept after deletion on purpose.

        Each ``Retention`` cites one of the policy's deletion exceptions.
        """
        raise NotImplementedError

    @_optional
    def processors(self) -> list[Processor]:
        """List service providers that must be told to delete.

        Every partner the module sends personal data to: ``third-party-sharing``
        holds each request to them to the ``purpose``, ``fields`` and ``bulk``
        declared, and a value reaching anyone not listed fails it.
        """
        raise NotImplementedError

    @_optional
    def opt_in(self, account: Account) -> None:
        """Opt the person back in to marketing in their account settings."""
        raise NotImplementedError

    @_optional
    def update_profile(self, account: Account, person: Person) -> None:
        """Save the person's (changed) name and e-mail through the profile page."""
        raise NotImplementedError

    @_optional
    def reimport(self, person: Person) -> Account:
        """Import the same person again, as a CRM sync or CSV import would.

        Return what identifies the account, as ``register`` does.
        """
        raise NotImplementedError

    @_optional
    def classify_mail(self, message: MailMessage) -> str | None:
        """Say whether a sent message is marketing, overriding the default rule.

        Return ``"marketing"``, ``"transactional"`` (service mail) or ``"notice"``
        (account mail: a password reset, a deletion receipt, a policy-change
        notice; never judged as marketing, and a deletion receipt may reach the
        person during their ``delete()``); None leaves the message to the
        default rule (the ``mail_category_header``, the subjects of known
        account mail, ``List-Unsubscribe``). Any other answer is an error.
        """
        raise NotImplementedError

    @_optional
    def update_birth_date(self, account: Account, birth_date: date | None) -> None:
        """Correct the account's birth date, as the module's profile page would."""
        raise NotImplementedError

    @_optional
    def deployment(self) -> dict[str, str]:
        """Name the production endpoints (database URLs, buckets, caches, APIs) or regions.

        The ``us-storage`` checks resolve each to a region.
        """
        raise NotImplementedError

    @_optional
    def add_history(self, account: Account, kind: str, person: Person) -> None:
        """Give the account history of one of the adapter's history_kinds.

        Orders, tickets, exports ...: so deletion is tested on a realistic past.
        """
        raise NotImplementedError

    @_optional
    def set_today(self, today: date) -> None:
        """Set the module's own business date to ``today``, as an operator would.

        Only for a module that keeps a "today" of its own instead of reading the
        system clock. The suite then calls it before every step that needs a
        date (a sign-up judged by age, a birth-date correction, a sign-up after
        time has passed), with the date in ``time_zone``, and does not move the
        process clock for that module; it sets the real date back when a check
        ends. Left out, those steps run under time-machine instead.
        """
        raise NotImplementedError

    @_optional
    def connect_third_party(self, account: Account, name: str) -> None:
        """Connect the account to the third-party site ``name``, as the person would.

        ``name`` is a processor declared with ``connectable=True``; while
        connected, the module may send that site the person's data.
        """
        raise NotImplementedError

    @_optional
    def announce_policy_change(self) -> None:
        """Notify every account of a change to the privacy policy, by e-mail.

        The notice goes to each account's primary e-mail address as it is now, opted out
        of marketing or not (it is a notice, not marketing), and to nobody deleted.
        """
        raise NotImplementedError

    @_optional
    def disconnect_third_party(self, account: Account, name: str) -> None:
        """Disconnect the account from the third-party site ``name``, as the person would.

        Afterwards nothing of the person may reach that site, and the
        connection's tokens are gone from every store.
        """
        raise NotImplementedError

    @_optional
    def third_parties_disclosed_for_direct_marketing(
        self, year: int, account: Account = None
    ) -> list[str]:
        """Name every third party the module gave personal data for direct marketing in ``year``.

        The answer to a California "Shine the Light" request for that calendar year.
        ``account`` is the customer asking; the suite passes it only when the adapter
        declares ``disclosure_requests_limited``, and then expects ``RequestRefused`` for
        that customer's second request within one calendar year.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class Capability:
    """One ``PrivacyAdapter`` method as checks and messages name it."""

    name: str
    signature: str  # e.g. "purchase(account, card) -> None"
    required: bool
    meaning: str  # the first paragraph of its docstring, as a clause after "it should"

    @classmethod
    def of(cls, method: Callable[..., Any]) -> Capability:
        """Read a placeholder method: its signature, whether it is required, its docstring."""
        signature = inspect.signature(method)
        parameters = ", ".join(list(signature.parameters)[1:])  # without self
        summary = inspect.getdoc(method)
        if not summary:
            raise TypeError(f"PrivacyAdapter.{method.__name__} must say what it does")
        meaning = " ".join(summary.split("\n\n")[0].split()).rstrip(".")
        return cls(
            method.__name__,
            f"{method.__name__}({parameters}) -> {signature.return_annotation}",
            getattr(method, _PLACEHOLDER) == REQUIRED,
            meaning[0].lower() + meaning[1:],
        )


CAPABILITIES: dict[str, Capability] = {
    name: Capability.of(member)
    for name, member in vars(PrivacyAdapter).items()
    if hasattr(member, _PLACEHOLDER)
}
"""Every adapter method, in the order ``PrivacyAdapter`` defines them; read from it."""


def implements(adapter: object, capability: str) -> bool:
    """Whether ``adapter`` really provides ``capability`` (not the base placeholder)."""
    method = getattr(adapter, capability, None)
    if method is None or not callable(method):
        return False
    return not hasattr(method, _PLACEHOLDER)
