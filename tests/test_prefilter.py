"""The server-side sieve must admit every row that holds a needle, and few others."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan.prefilter import (
    CANARY_WINDOW,
    DIGIT_WINDOW,
    MINTED_NUMBER_WINDOWS,
    literal_piece,
    sieve_parts,
    sieve_pattern,
    sieve_patterns,
)

ORDINARY_ROWS = [
    '(17,SO-000012345,paid,1234.56,"2026-11-25 10:11:12.123456+00","100 Main Street")',
    '{"order": "SO-000000042", "request_id": "6f1c2a9e-8d3b-4c1b-9a7e-2b5d8c0e1f3a"}',
    "14K yellow gold band, size 7, hand polished; customer called about the appraisal",
    "10.0.12.34 clerk12@stexcel.example invoice.print counter-3",
    "call (312) 555-1234 about invoice 4000.00, card ending 4000",
]


@given(given_name=st.text(min_size=1, max_size=20), family=st.text(min_size=1, max_size=20))
def test_every_needle_of_any_person_passes_its_sieve(given_name: str, family: str) -> None:
    person = assemble(given=given_name, family=family)
    pattern = re.compile(sieve_pattern(person.needles), re.IGNORECASE)
    for needle in person.needles:
        assert pattern.search(needle.text), needle
    # and as a bytea column shows it: hex
    hex_pattern = re.compile(sieve_pattern(person.needles, with_hex=True), re.IGNORECASE)
    for needle in person.needles:
        assert hex_pattern.search(needle.key.hex()), needle


def test_the_sieve_stays_small_however_many_persons() -> None:
    people = [assemble(given=f"Gi{i}", family=f"Fa{i}") for i in range(100)]
    needles = [n for p in people for n in p.needles]
    assert len(needles) > 5000
    parts = sieve_parts(needles)
    # canaries, the minted phone and card prefixes, one letters-and-digits window
    assert parts[:3] == [CANARY_WINDOW, *MINTED_NUMBER_WINDOWS], parts
    assert len(parts) == 4, parts
    assert parts[3].startswith("[a-z0-9]{"), parts
    # PostgreSQL gets the costly window as a regex of its own
    assert sieve_patterns(needles) == ["|".join(parts[:3]), parts[3]]


def test_numbers_from_outside_the_mint_fall_back_to_the_digit_window() -> None:
    person = assemble(given="Ann", family="Lee").changed(phone="(312) 736-4821")
    assert DIGIT_WINDOW in sieve_parts(person.needles)
    pattern = re.compile(sieve_pattern(person.needles), re.IGNORECASE)
    for text in ("312-736-4821", "+13127364821", "(312)736-4821"):
        assert pattern.search(text), text


def test_ordinary_erp_rows_do_not_pass() -> None:
    people = [assemble(given=f"Gi{i}", family=f"Fa{i}") for i in range(20)]
    pattern = re.compile(sieve_pattern(n for p in people for n in p.needles), re.IGNORECASE)
    assert [row for row in ORDINARY_ROWS if pattern.search(row)] == []
    assert pattern.search(f"(18,{people[3].value('phone')},x)")


def test_a_literal_keeps_only_what_a_row_shows_unchanged() -> None:
    assert literal_piece('ab"cdef\\gh') == "cdef"
    assert literal_piece("plain") == "plain"
