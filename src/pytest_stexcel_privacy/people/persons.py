"""Synthetic persons whose personal data cannot occur by chance.

Each person carries a canary: seven letters unique to the run. Every text
field embeds the canary followed by a letter naming the field, so a hit
proves both *whose* value survived and *which* field it was. Phone and card
numbers are unique to the run instead, drawn from ranges that reach no one:
fictional telephone numbers and a card-network test range. The unique parts
come from a process-wide mint, never from hypothesis draws: shrinking would
otherwise make two examples share a canary and turn one example's live data
into another's false residue.
"""

from __future__ import annotations

import random
import threading
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Any

from .area_codes import US_AREA_CODES
from .needles import Needle, derive, extra_forms

CONSONANTS = "bcdfghjklmnpqrstvwxz"
CANARY_LENGTH = 7
# Draws before the mint gives up: only reached when a range is nearly used up
# (35,900 fictional phone numbers per process: 100 under each of 359 US area codes).
MINT_ATTEMPTS = 10_000

# The field letter appended to the person's canary inside each text field.
FIELD_MARKS: dict[str, str] = {
    "first_name": "b",
    "last_name": "d",
    "email": "f",
    "street": "g",
    "employer": "h",
    "job_title": "j",
}

# Fields searched for in stores. City, state, postal code and birth date are
# too common to prove anything on their own and are not searched.
SEARCHABLE_FIELDS: tuple[str, ...] = (*FIELD_MARKS, "phone", "card_number")
# Every field a person has, as a processor's declared ``fields`` may name them.
PERSON_FIELDS: tuple[str, ...] = (
    *SEARCHABLE_FIELDS,
    "city",
    "state",
    "postal_code",
    "birth_date",
)

# The shapes an identifier the policy does not name (tax ID, customer number, IBAN) can
# take; an adapter declares its own as ``extra_fields`` (contract/profile.py).
EXTRA_SHAPES: tuple[str, ...] = ("identifier", "digits", "iban")
# The bank code inside every minted IBAN: Malta's IBAN lets the account part hold letters,
# so the whole canary fits in it.
IBAN_BANK = "STEX"


class _Mint:
    """Hands out canaries, phone numbers and card numbers never reused in this process."""

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._order: list[str] = []  # _used in the order handed out, for readers to follow
        self._lock = threading.Lock()
        self._random: random.Random = random.SystemRandom()
        # The adapter's extra fields (name -> shape) every person minted now carries.
        self.extra_fields: tuple[tuple[str, str], ...] = ()

    def reseed(self, material: str | None) -> None:
        """Make the next values reproducible from ``material`` (None: unpredictable again).

        Values already handed out are never handed out again. The suite reseeds
        only through :func:`reseed_for`.
        """
        with self._lock:
            self._random = random.SystemRandom() if material is None else random.Random(material)

    def _unique(self, make: Any) -> str:
        with self._lock:
            for _ in range(MINT_ATTEMPTS):
                value: str = make()
                if value not in self._used:
                    self._used.add(value)
                    self._order.append(value)
                    return value
        raise RuntimeError(
            f"the mint drew {MINT_ATTEMPTS:,} values already handed out in this process "
            f"({len(self._used):,} in use): its ranges are nearly exhausted; "
            "run fewer examples per process (e.g. pytest -n auto)"
        )

    def issued(self) -> frozenset[str]:
        """Every canary, phone and card number handed out in this process so far."""
        with self._lock:
            return frozenset(self._used)

    def issued_after(self, count: int) -> list[str]:
        """The values handed out after the first ``count``, in order: a reader that keeps
        up with the mint reads each value once, however many there are by then."""
        with self._lock:
            return self._order[count:]

    def canary(self) -> str:
        return self._unique(
            lambda: "".join(self._random.choice(CONSONANTS) for _ in range(CANARY_LENGTH))
        )

    def phone(self) -> str:
        """A number in the NANP's fictional range, 555-0100 to 555-0199, under an assigned
        US area code.

        Such a number can never ring a real person, yet a module validating numbers
        (libphonenumber) accepts it; its "555" then "01" is what lets a database sieve
        every phone form cheaply (prefilter.py).
        """

        def make() -> str:
            r = self._random
            return f"({r.choice(US_AREA_CODES)}) 555-01{r.randrange(100):02d}"

        return self._unique(make)

    def extra_value(self, canary: str, shape: str) -> str:
        """A value of ``shape`` (one of ``EXTRA_SHAPES``) that only the person with
        ``canary`` holds, never handed out before in this process."""
        make: dict[str, Callable[[], str]] = {
            # e.g. "48-BCDFGHJ-2193": the canary whole, so the value names its person
            "identifier": lambda: (
                f"{self._random.randrange(10, 100)}-{canary.upper()}"
                f"-{self._random.randrange(1000, 10000)}"
            ),
            # e.g. "7010 2030 4050 6074": the canary spelt as digits, two per letter
            "digits": lambda: _grouped(
                f"{self._random.randrange(1, 10)}"
                + "".join(f"{CONSONANTS.index(c):02d}" for c in canary)
                + f"{self._random.randrange(10)}",
                " ",
            ),
            # e.g. "MT31 STEX 0123 4BCD FGHJ 0123 4567 890": Maltese layout, check digits right
            "iban": lambda: _grouped(
                with_iban_check(
                    "MT",
                    f"{IBAN_BANK}{self._random.randrange(10**5):05d}{canary.upper()}"
                    f"{self._random.randrange(10**11):011d}",
                ),
                " ",
            ),
        }
        return self._unique(make[shape])

    def cvc(self) -> str:
        with self._lock:
            return f"{self._random.randrange(1000):03d}"

    def card_number(self) -> str:
        # 400000 is a card-network test range: these numbers pass a Luhn check
        # yet can never charge a real account.
        return self._unique(
            lambda: with_luhn_digit("400000" + f"{self._random.randrange(10**9):09d}")
        )


mint = _Mint()


def reseed_for(check: str, seed: str | None) -> None:
    """Make the persons minted from now on reproducible for one check of a seeded run.

    The plugin calls this once per check, before the check's harness opens:
    under ``--hypothesis-seed`` the same check then mints the same persons
    whichever process runs it, so its report is the same under ``-n 0`` and
    ``-n 2``. Without a seed (None) the values are unpredictable.
    """
    mint.reseed(None if seed is None else f"{seed}:{check}")


def with_luhn_digit(partial: str) -> str:
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return partial + str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return with_luhn_digit(number[:-1]) == number


def _iban_remainder(rearranged: str) -> int:
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97


def with_iban_check(country: str, bban: str) -> str:
    """The IBAN of ``bban`` in ``country``, with its ISO 13616 check digits (mod 97)."""
    check = 98 - _iban_remainder(f"{bban}{country}00".upper())
    return f"{country}{check:02d}{bban}"


def iban_valid(iban: str) -> bool:
    compact = "".join(iban.split()).upper()
    return compact.isalnum() and _iban_remainder(compact[4:] + compact[:4]) == 1


def _grouped(text: str, separator: str) -> str:
    return separator.join(text[i : i + 4] for i in range(0, len(text), 4))


def use_extra_fields(shapes: Mapping[str, str] | tuple[tuple[str, str], ...]) -> None:
    """Give every person minted from now on a value for each of ``shapes`` (field ->
    shape); the harness calls this with the adapter's ``extra_fields`` for each check."""
    items = shapes.items() if isinstance(shapes, Mapping) else shapes
    mint.extra_fields = tuple((name, shape) for name, shape in items)


@dataclass(frozen=True)
class Card:
    """A billing card in a test range: valid-looking, never chargeable."""

    number: str
    expiry: str
    cvc: str
    holder: str

    def __repr__(self) -> str:
        return f"Card(number='…{self.number[-4:]}')"


@dataclass(frozen=True, repr=False)
class Person:
    """A synthetic person holding every kind of personal data the policy lists."""

    canary: str
    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    city: str
    state: str
    postal_code: str
    employer: str
    job_title: str
    birth_date: date | None
    card: Card = field(compare=False)
    # Identifiers the policy does not name but the module holds (the adapter's
    # ``extra_fields``): field -> value, e.g. {"tax_id": "48-BCDFGHJ-2193"}.
    extra: Mapping[str, str] = field(default_factory=dict, compare=False)

    FIELDS = SEARCHABLE_FIELDS

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def mailing_address(self) -> str:
        return f"{self.street}\n{self.city}, {self.state} {self.postal_code}"

    def mark(self, field_name: str) -> str:
        """The canary token embedded in ``field_name``."""
        return self.canary + FIELD_MARKS[field_name]

    def value(self, field_name: str) -> str:
        if field_name == "card_number":
            return self.card.number
        if field_name in self.extra:
            return self.extra[field_name]
        value: str = getattr(self, field_name)
        return value

    @cached_property
    def needles(self) -> tuple[Needle, ...]:
        listed = (
            needle
            for name in SEARCHABLE_FIELDS
            for needle in derive(
                self.canary,
                name,
                self.value(name),
                self.mark(name) if name in FIELD_MARKS else None,
            )
        )
        extra = (
            needle
            for name, value in self.extra.items()
            for needle in derive(self.canary, name, value, None, extra_forms(value))
        )
        return (*listed, *extra)

    def changed(self, **changes: Any) -> Person:
        """A copy with some fields changed (the canary stays, so needles still match)."""
        return replace(self, **changes)

    def __repr__(self) -> str:
        # Masked on purpose: reprs end up in hypothesis output and reports.
        return f"Person(canary={self.canary[:2]}…, born={self.birth_date})"


def ascii_fold(text: str) -> str:
    """Letters an e-mail local part can carry, e.g. 'Zoë' -> 'zoe'."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in "'-."))
    return kept.lower().strip(".-") or "x"


def assemble(
    *,
    given: str,
    family: str,
    domain: str = "example.com",
    building: str = "100",
    street_suffix: str = "Street",
    secondary: str = "",
    city: str = "Springfield",
    state: str = "IL",
    postal_code: str = "62701",
    company: str = "Acme Jewelers",
    job: str = "Goldsmith",
    birth_date: date | None = date(1980, 1, 1),
    plus_tag: str | None = None,
) -> Person:
    """Build a person from plain parts, embedding fresh canaries and unique numbers.

    Used by both the factory (Faker parts) and the hypothesis strategies
    (hard-case parts), so every person is marked the same way.
    """
    canary = mint.canary()
    mark = {name: (canary + letter) for name, letter in FIELD_MARKS.items()}
    local = f"{ascii_fold(given)}.{mark['email']}"
    if plus_tag:
        local = f"{local}+{plus_tag}"
    street = f"{building} {mark['street'].capitalize()} {street_suffix}"
    if secondary:
        street = f"{street} {secondary}"
    first_name = f"{given}-{mark['first_name'].capitalize()}"
    last_name = f"{family}-{mark['last_name'].capitalize()}"
    return Person(
        canary=canary,
        first_name=first_name,
        last_name=last_name,
        email=f"{local}@{domain}",
        phone=mint.phone(),
        street=street,
        city=city,
        state=state,
        postal_code=postal_code,
        employer=f"{company} {mark['employer'].capitalize()}",
        job_title=f"{job} {mark['job_title'].capitalize()}",
        birth_date=birth_date,
        card=Card(
            number=mint.card_number(),
            expiry="12/34",
            cvc=mint.cvc(),
            holder=f"{first_name} {last_name}",
        ),
        extra={name: mint.extra_value(canary, shape) for name, shape in mint.extra_fields},
    )
