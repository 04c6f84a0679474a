"""Hypothesis strategies for synthetic persons, hard cases included.

``persons()`` mixes ordinary names with the ones modules get wrong:
apostrophes, hyphens, non-ASCII letters, very long addresses and
plus-addressed e-mail. Only the *shape* of a person is drawn; canaries, phone
and card numbers are minted fresh, so shrinking never makes two persons
share an identity.
"""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from .persons import Person, assemble

__all__ = ["adult_birth_dates", "names", "persons"]

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


def names() -> st.SearchStrategy[str]:
    """Given or family names: common, tricky, or generated from Latin letters."""
    generated = st.builds(
        lambda head, tail, joiner: f"{head}{joiner}{tail}" if tail else head,
        st.text(NAME_LETTERS, min_size=1, max_size=12),
        st.text(NAME_LETTERS, max_size=12),
        st.sampled_from(("'", "-", " ")),
    )
    return st.sampled_from(ORDINARY_NAMES) | st.sampled_from(HARD_NAMES) | generated


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
        postal_code=st.from_regex(r"\A[0-9]{5}\Z"),
        company=st.sampled_from(("Acme Jewelers", "Tiffany & Sons", "O'Hara Gems, Inc.")),
        job=st.sampled_from(("Goldsmith", "Gemologist", "Buyer", "Sales Associate")),
        birth_date=birth_dates if birth_dates is not None else adult_birth_dates(),
        plus_tag=st.none() | st.sampled_from(("news", "orders", "vip")),
    )
