"""The people a state machine signs up, as its model sees them: one model for every machine.

Both the opt-out machine and the lifecycle keep, for each person they signed
up, whether they are deleted and whether they want marketing, the profiles
and addresses they have had and the last marketing message they received;
the judging of mail and residue is each machine's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..observe.mail_sink import MailMessage
from ..people.persons import Person, assemble

NAMES = (("Ann", "Lee"), ("Bo", "Okafor"), ("Chloé", "D'Souza"), ("Dev", "Patel"), ("Eun", "Kim"))
# How a profile can change: the name, only the e-mail's case, or a new e-mail address.
PROFILE_CHANGES = ("name", "email-case", "email")
# How the same e-mail address can be spelt where it enters again (a sign-up, an import):
# one address to the model, as an address's case and surrounding spaces mean nothing.
AS_IS, UPPER_CASE, MIXED_CASE, PADDED = "as-is", "upper-case", "mixed-case", "padded"
EMAIL_SPELLINGS = (AS_IS, UPPER_CASE, MIXED_CASE, PADDED)


@dataclass
class Member:
    """One person the machine signed up."""

    label: str
    person: Person  # the profile as the module holds it now
    account: Any
    subscribed: bool  # wants marketing
    deleted: bool = False
    purchased: bool = False
    last_marketing: MailMessage | None = None
    addresses: set[str] = field(default_factory=set)  # every address they have had, lower-cased
    versions: list[Person] = field(default_factory=list)  # every profile they have had

    def __post_init__(self) -> None:
        self.versions.append(self.person)
        self.addresses.add(self.address)

    @property
    def alive(self) -> bool:
        return not self.deleted

    @property
    def address(self) -> str:
        """Where the module sends to now, lower-cased as the mail sink records it."""
        return normal_address(self.person.email)

    @property
    def status(self) -> str:
        if self.deleted:
            return "deleted"
        return "subscribed" if self.subscribed else "opted out"

    def receives(self, message: MailMessage) -> bool:
        return bool(self.addresses & set(message.recipients))

    def now_holds(self, person: Person) -> None:
        """Their profile changed to ``person``; the old one is still theirs to find."""
        self.person = person
        self.versions.append(person)
        self.addresses.add(self.address)


def named_person(index: int, **parts: Any) -> Person:
    """The ``index``-th person of a machine: names cycle, canaries never repeat."""
    given, family = NAMES[index % len(NAMES)]
    return assemble(given=given, family=family, **parts)


def normal_address(email: str) -> str:
    """The address as the model knows it: trimmed and lower-cased."""
    return email.strip().lower()


def spelled(email: str, spelling: str) -> tuple[str, str]:
    """``email`` spelt one of the ``EMAIL_SPELLINGS`` ways, and how, for the steps."""
    local, _, domain = email.partition("@")
    if spelling == AS_IS:
        return email, ""
    if spelling == UPPER_CASE:
        return email.upper(), "upper-case e-mail"
    if spelling == MIXED_CASE:
        mixed = ".".join(part.capitalize() for part in local.split("."))
        return f"{mixed}@{domain.capitalize()}", "mixed-case e-mail"
    if spelling == PADDED:
        return f" {email} ", "e-mail padded with spaces"
    raise ValueError(f"unknown spelling {spelling!r}; one of {EMAIL_SPELLINGS}")


def changed_profile(person: Person, change: str) -> Person:
    """``person`` after one of the ``PROFILE_CHANGES``."""
    local, _, domain = person.email.partition("@")
    if change == "email-case":
        return person.changed(email=f"{local.swapcase()}@{domain.upper()}")
    if change == "email":
        return person.changed(email=f"{local}@moved.example.com")
    if change == "name":
        return person.changed(first_name=f"{person.first_name}-Marie")
    raise ValueError(f"unknown profile change {change!r}; one of {PROFILE_CHANGES}")
