"""Whole-year ages as the policy's "under thirteen" needs them, leap days included.

The suite's oracle: what the module should have decided. A person born on
29 February has, in a non-leap year, a birthday on 1 March under the common
US convention (``"march-1"``) or on 28 February (``"february-28"``); the
adapter names the convention its module follows.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

MINIMUM_AGE = 13
LeapConvention = Literal["march-1", "february-28"]
LEAP_CONVENTIONS: tuple[LeapConvention, ...] = get_args(LeapConvention)
# Older than this is not a child, but a module may reject the date as implausible:
# the suite accepts either answer.
IMPLAUSIBLE_AGE = 120


def birthday_in(born: date, year: int, leap_convention: str = "march-1") -> date:
    """The day in ``year`` on which the person born on ``born`` turns a year older."""
    if (born.month, born.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1) if leap_convention == "march-1" else date(year, 2, 28)
    return born.replace(year=year)


def age_on(born: date, day: date, leap_convention: str = "march-1") -> int:
    """Completed years on ``day``; negative for a birth date in the future."""
    years = day.year - born.year
    return years - 1 if day < birthday_in(born, day.year, leap_convention) else years


def thirteenth_birthday(born: date, leap_convention: str = "march-1") -> date:
    return birthday_in(born, born.year + MINIMUM_AGE, leap_convention)


def verdict(born: date | None, day: date, leap_convention: str = "march-1") -> str:
    """ "refuse", "accept", or "either" (an implausibly old birth date)."""
    if born is None:
        return "refuse"  # a module that does not ask the age cannot know it is not a child
    age = age_on(born, day, leap_convention)
    if age < MINIMUM_AGE:
        return "refuse"
    return "either" if age > IMPLAUSIBLE_AGE else "accept"


@dataclass(frozen=True)
class AgeCase:
    """A sign-up attempt: who (by birth date) and when, on the module's own clock."""

    born: date | None
    moment: datetime  # aware, in the module's time zone

    @property
    def day(self) -> date:
        return self.moment.date()

    def describe(self, leap_convention: str = "march-1") -> str:
        when = f"signing up {self.moment:%Y-%m-%d %H:%M:%S} {self.moment.tzname()}"
        if self.born is None:
            return f"no birth date given, {when}"
        age = age_on(self.born, self.day, leap_convention)
        turns = thirteenth_birthday(self.born, leap_convention)
        return f"born {self.born.isoformat()}, {when}: aged {age}, 13 on {turns.isoformat()}"

    def __repr__(self) -> str:
        born = self.born.isoformat() if self.born else None
        return f"AgeCase(born={born}, moment={self.moment.isoformat()} {self.moment.tzname()})"
