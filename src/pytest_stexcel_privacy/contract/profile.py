"""The adapter's settings, read and checked once, when a check is set up.

A user describes their module with class attributes on their adapter
(``time_zone = "Europe/Berlin"``). This module is the one place that reads
them: :meth:`AdapterProfile.of` checks every one, so a typo errors every check
at setup with a message naming the attribute, and the checks read the typed,
frozen result instead of the adapter. (Not to be confused with the hypothesis
profiles in :mod:`pytest_stexcel_privacy.profiles`.)
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Literal, TypeVar, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import AdapterContractError
from ..people.ages import LEAP_CONVENTIONS, LeapConvention
from ..people.persons import EXTRA_SHAPES, SEARCHABLE_FIELDS

UnderageHandling = Literal["delete", "block"]
UNDERAGE_HANDLINGS: tuple[UnderageHandling, ...] = get_args(UnderageHandling)

T = TypeVar("T")


@dataclass(frozen=True)
class AdapterProfile:
    """Every adapter setting, with its default; the README's settings table lists the same."""

    time_zone: str = "UTC"
    """The IANA zone whose calendar date the module judges ages by."""

    leap_day_birthday: LeapConvention = "march-1"
    """The day someone born on 29 February turns a year older in other years."""

    underage_handling: UnderageHandling = "delete"
    """What the module does on learning an account holder is under 13: "delete" the
    account and its data, or "block" it (kept, but never written to or mailed again)."""

    marketing_by_default: bool = True
    """Whether a new account receives marketing until it opts out."""

    mail_category_header: str = "X-Mail-Category"
    """The header saying whether a message is marketing ("marketing", "newsletter" ...)
    or not ("transactional", "order" ...)."""

    history_kinds: tuple[str, ...] = ()
    """The kinds of history ``add_history`` can create (orders, notes, design requests
    ...); the deletion checks draw sequences of them so a person has a realistic past."""

    birth_date_required: bool = False
    """Whether the module requires a birth date at sign-up. When True, a sign-up without
    one must be refused (the children check holds it to that) and no check ever corrects
    a birth date to none; when False, a sign-up without one must be refused too (nobody
    can tell it is not a child's), and corrections may remove it."""

    allowed_subprocesses: tuple[str, ...] = ()
    """Programs (names or paths) the module may start that make no connection of their
    own; any other process it starts during a check makes us-storage error, since the
    egress guard cannot see into it (a Python child it can: it guards it)."""

    sends_email: bool = True
    """Whether the module sends e-mail at all. When False, its mail methods (opt_out,
    unsubscribe, send_marketing, send_transactional) are not needed: email-opt-out is
    NOT APPLICABLE once the suite has seen no message reach the mail sink through
    sign-up, profile changes, purchases and deletion, and FAILED if one does."""

    opt_out_survives_deletion: bool = False
    """Stricter than the policy: whether someone who opted out, was deleted and signs up
    again with the e-mail address they held when deleted must still get no marketing (an
    address they had left before is not covered). When True, the adapter must
    declare a ``Retention`` whose fields include "email" (the suppression list); when
    False, such a sign-up is a new person, who may or may not be mailed marketing."""

    require_list_unsubscribe_headers: bool = False
    """Stricter than the policy: whether marketing must carry ``List-Unsubscribe`` and
    RFC 8058 ``List-Unsubscribe-Post`` headers. When False, only the visible unsubscribe
    link in the body is required (it must work, as must any header link there is)."""

    require_service_mail_after_opt_out: bool = False
    """Stricter than the policy: whether a non-marketing message (an order confirmation)
    must still arrive after an opt-out. When False, a missing one is no failure; mail
    that does arrive is judged all the same."""

    extra_fields: tuple[tuple[str, str], ...] = ()
    """Personal identifiers the module holds beyond the policy's list, as a mapping of
    field name to shape ("identifier", "digits" or "iban"), e.g. ``{"tax_id":
    "identifier"}``. Every person then carries a value of that shape unique to them in
    ``person.extra[name]``, which ``register`` should store, and the deletion checks
    search for it (as written, without separators, in either case)."""

    disclosure_requests_limited: bool = False
    """Whether the module answers a customer's "Shine the Light" request at most once per
    calendar year, as California allows: the shine-the-light check then asks twice for
    one customer within a year and expects the second ``RequestRefused``. When False,
    every request must be answered."""

    @classmethod
    def of(cls, adapter: object) -> AdapterProfile:
        """Read every setting from ``adapter``, its default where it sets none, checking each.

        Raises ``AdapterContractError`` naming the attribute and what it may be.
        """
        owner = type(adapter).__name__
        declared = {f.name: getattr(adapter, f.name, getattr(cls, f.name)) for f in fields(cls)}
        return cls(
            time_zone=_time_zone(owner, declared["time_zone"]),
            leap_day_birthday=_one_of(
                owner,
                "leap_day_birthday",
                declared["leap_day_birthday"],
                LEAP_CONVENTIONS,
                f"one of {LEAP_CONVENTIONS}",
            ),
            underage_handling=_one_of(
                owner,
                "underage_handling",
                declared["underage_handling"],
                UNDERAGE_HANDLINGS,
                "'delete' (the account and its data go) or 'block' (kept, but no longer processed)",
            ),
            marketing_by_default=_one_of(
                owner,
                "marketing_by_default",
                declared["marketing_by_default"],
                (True, False),
                "True (new accounts receive marketing until they opt out) or False",
            ),
            mail_category_header=_header(owner, declared["mail_category_header"]),
            history_kinds=_strings(owner, "history_kinds", declared["history_kinds"]),
            birth_date_required=_one_of(
                owner,
                "birth_date_required",
                declared["birth_date_required"],
                (False, True),
                "True (sign-up needs a birth date; none is never tried as a correction) or False",
            ),
            allowed_subprocesses=_strings(
                owner, "allowed_subprocesses", declared["allowed_subprocesses"]
            ),
            sends_email=_one_of(
                owner,
                "sends_email",
                declared["sends_email"],
                (True, False),
                "True (the module sends e-mail; the suite drives its mail methods) or False",
            ),
            opt_out_survives_deletion=_one_of(
                owner,
                "opt_out_survives_deletion",
                declared["opt_out_survives_deletion"],
                (False, True),
                "True (an opt-out holds for a deleted person who signs up again with the "
                "same e-mail; declare the suppression list as a Retention) or False",
            ),
            require_list_unsubscribe_headers=_one_of(
                owner,
                "require_list_unsubscribe_headers",
                declared["require_list_unsubscribe_headers"],
                (False, True),
                "True (marketing must carry List-Unsubscribe and List-Unsubscribe-Post) "
                "or False (a visible unsubscribe link in the body is enough)",
            ),
            require_service_mail_after_opt_out=_one_of(
                owner,
                "require_service_mail_after_opt_out",
                declared["require_service_mail_after_opt_out"],
                (False, True),
                "True (service mail must still arrive after an opt-out) or False",
            ),
            extra_fields=_extra_fields(owner, declared["extra_fields"]),
            disclosure_requests_limited=_one_of(
                owner,
                "disclosure_requests_limited",
                declared["disclosure_requests_limited"],
                (False, True),
                "True (a customer's second disclosure request in a calendar year is refused "
                "with RequestRefused) or False (every request is answered)",
            ),
        )


def _one_of(owner: str, attribute: str, value: object, allowed: tuple[T, ...], must: str) -> T:
    """The allowed value equal to ``value``, so the profile holds exactly the typed one."""
    for option in allowed:
        if isinstance(value, type(option)) and value == option:
            return option
    raise AdapterContractError(f"{owner}.{attribute} = {value!r}; it must be {must}")


def _time_zone(owner: str, zone: object) -> str:
    try:
        if isinstance(zone, str):
            ZoneInfo(zone)
            return zone
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise AdapterContractError(
        f"{owner}.time_zone = {zone!r} is not an IANA time zone such as 'America/New_York' or 'UTC'"
    )


def _header(owner: str, header: object) -> str:
    if isinstance(header, str) and header.strip():
        return header
    raise AdapterContractError(
        f"{owner}.mail_category_header = {header!r}; it must name the header that marks "
        f"marketing mail, such as {AdapterProfile.mail_category_header!r}"
    )


def _strings(owner: str, attribute: str, value: object) -> tuple[str, ...]:
    if (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and all(isinstance(item, str) for item in value)
    ):
        return tuple(value)
    raise AdapterContractError(f"{owner}.{attribute} must be a sequence of strings, got {value!r}")


def _extra_fields(owner: str, value: object) -> tuple[tuple[str, str], ...]:
    """The declared mapping of field name to shape, as sorted pairs."""
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        value = dict(value)  # the profile's own form, read back
    if not isinstance(value, Mapping):
        raise AdapterContractError(
            f"{owner}.extra_fields = {value!r}; it must map each field name to a shape, "
            f"e.g. {{'tax_id': 'identifier'}}"
        )
    for name, shape in value.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise AdapterContractError(
                f"{owner}.extra_fields: {name!r} is not a field name (letters, digits, _)"
            )
        if name in SEARCHABLE_FIELDS:
            raise AdapterContractError(
                f"{owner}.extra_fields: {name!r} is one of the policy's own fields, "
                "which every person has already"
            )
        if shape not in EXTRA_SHAPES:
            raise AdapterContractError(
                f"{owner}.extra_fields[{name!r}] = {shape!r}; it must be one of {EXTRA_SHAPES}"
            )
    return tuple(sorted(value.items()))
