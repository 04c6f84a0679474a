"""Hypothesis strategies for synthetic persons, hard cases included.

``persons()`` mixes ordinary names with the ones modules get wrong:
apostrophes, hyphens, non-ASCII letters, very long addresses and
plus-addressed e-mail. Only the *shape* of a person is drawn; canaries, phone
and card numbers are minted fresh, so shrinking never makes two persons
share an identity.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from .ages import IMPLAUSIBLE_AGE, MINIMUM_AGE, AgeCase
from .persons import Person, assemble

__all__ = [
    "adult_birth_dates",
    "age_cases",
    "names",
    "persons",
    "sign_up_moments",
]

ORDINARY_NAMES = ("Maria", "James", "Wei", "Fatima", "John", "Olivia", "Noah", "Ava")
HARD_NAMES = (
    "O'Brien",
    "D'Angelo-Smith",
    "Anne-Marie",
    "Zoë",
    "José",
    "Łukasz",
    "Nguyễn",
    "Siobhán",
    "Ørsted",
    "Mary Jane",
)
NAME_LETTERS = st.characters(
    categories=("Lu", "Ll"), exclude_characters="\u0130\u0131", max_codepoint=0x24F
)


@cache
def names() -> st.SearchStrategy[str]:
    """Given or family names: common, tricky, or generated from Latin letters.

    One strategy object for the process (as for ``persons()``): hypothesis checks and
    measures a strategy once per object, which cost more than drawing a person."""
    generated = st.builds(
        _joined_name,
        st.text(NAME_LETTERS, min_size=1, max_size=12),
        st.text(NAME_LETTERS, max_size=12),
        st.sampled_from(("'", "-", " ")),
    )
    return st.sampled_from(ORDINARY_NAMES) | st.sampled_from(HARD_NAMES) | generated


def _joined_name(head: str, tail: str, joiner: str) -> str:
    return f"{head}{joiner}{tail}" if tail else head


def adult_birth_dates(today: date | None = None) -> st.SearchStrategy[date]:
    today = today or date.today()
    return st.dates(
        min_value=date(today.year - 100, 1, 1), max_value=date(today.year - 18, today.month, 1)
    )


_SECONDARY = st.sampled_from(("", "Apt 4B", "Suite 1200", "Unit 7, Building C, Floor 3"))
_LONG_STREET = st.lists(
    st.sampled_from(("Rear", "Building", "North", "Industrial", "Park", "Gate", "Floor", "12")),
    min_size=6,
    max_size=30,
).map(" ".join)


def persons(birth_dates: st.SearchStrategy[date | None] | None = None) -> st.SearchStrategy[Person]:
    """Synthetic persons; ``birth_dates`` defaults to adults."""
    if birth_dates is None:
        return _adults(date.today())
    return _persons(birth_dates)


@cache
def _adults(today: date) -> st.SearchStrategy[Person]:
    return _persons(adult_birth_dates(today))


def _persons(birth_dates: st.SearchStrategy[date | None]) -> st.SearchStrategy[Person]:
    return st.builds(
        assemble,
        given=names(),
        family=names(),
        domain=st.sampled_from(("example.com", "example.org", "example.net")),
        building=st.integers(1, 99999).map(str),
        street_suffix=st.sampled_from(("Street", "Avenue", "Boulevard", "Way")),
        secondary=_SECONDARY | _LONG_STREET,
        city=st.sampled_from(("Glendale", "Springfield", "Coeur d'Alene", "Winston-Salem")),
        state=st.sampled_from(("CA", "IL", "ID", "NC", "NY")),
        # not from_regex: its default alphabet makes hypothesis tabulate every character
        # UTF-8 can encode, 1.6 s on a process's first draw where no cache file exists
        postal_code=st.text("0123456789", min_size=5, max_size=5),
        company=st.sampled_from(("Acme Jewelers", "Tiffany & Sons", "O'Hara Gems, Inc.")),
        job=st.sampled_from(("Goldsmith", "Gemologist", "Buyer", "Sales Associate")),
        birth_date=birth_dates,
        plus_tag=st.none() | st.sampled_from(("news", "orders", "vip")),
    )


# --- ages: sign-up attempts that reach the age gate's edges on purpose -----------------

_EDGE_TIMES = (time(0, 0, 0), time(0, 0, 1), time(12, 0), time(23, 59, 59))


def sign_up_moments(
    zone: str, days: st.SearchStrategy[date] | None = None
) -> st.SearchStrategy[datetime]:
    """Moments on the module's clock, biased to just after and just before midnight."""
    tz = ZoneInfo(zone)
    days = days if days is not None else st.dates(date(2000, 1, 1), date(2045, 12, 31))
    times = st.sampled_from(_EDGE_TIMES) | st.times()
    return st.builds(lambda d, t: datetime.combine(d, t, tzinfo=tz), days, times)


def age_cases(zone: str = "UTC") -> st.SearchStrategy[AgeCase]:
    """Birth dates against sign-up moments, reaching every edge of "under thirteen".

    The 13th birthday itself and the days either side, 29 February births in
    non-leap years, births in the future, implausibly old births and missing
    birth dates are each drawn on purpose, plus any date at all.
    """
    moments = sign_up_moments(zone)

    @st.composite
    def around_thirteenth(draw: st.DrawFn) -> AgeCase:
        moment = draw(moments)
        offset = draw(st.sampled_from((-1, 0, 1)) | st.integers(-400, 400))
        turning_13 = moment.date() + timedelta(days=offset)
        try:
            born = turning_13.replace(year=turning_13.year - MINIMUM_AGE)
        except ValueError:  # 29 February thirteen years on: no such day
            born = date(turning_13.year - MINIMUM_AGE, 2, 28)
        return AgeCase(born, moment)

    @st.composite
    def leap_day_births(draw: st.DrawFn) -> AgeCase:
        year = draw(st.sampled_from(range(1992, 2033, 4)))
        born = date(year, 2, 29)
        sign_up_year = year + MINIMUM_AGE + draw(st.sampled_from((0, 0, 0, 1, -1)))
        day = draw(st.sampled_from((date(sign_up_year, 2, 28), date(sign_up_year, 3, 1))))
        moment = draw(sign_up_moments(zone, st.just(day)))
        return AgeCase(born, moment)

    @st.composite
    def future_births(draw: st.DrawFn) -> AgeCase:
        moment = draw(moments)
        return AgeCase(moment.date() + timedelta(days=draw(st.integers(1, 3000))), moment)

    @st.composite
    def ancient_births(draw: st.DrawFn) -> AgeCase:
        moment = draw(moments)
        age = draw(st.integers(IMPLAUSIBLE_AGE + 1, 140))
        return AgeCase(date(moment.year - age, 6, 15), moment)

    anything = st.builds(AgeCase, st.dates(date(1880, 1, 1), date(2045, 12, 31)), moments)
    missing = st.builds(AgeCase, st.none(), moments)
    return st.one_of(
        around_thirteenth(), leap_day_births(), future_births(), ancient_births(), missing, anything
    )
