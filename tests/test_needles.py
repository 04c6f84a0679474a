"""Needles: every encoded form of a value is derived, and found inside larger data."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_stexcel_privacy.people.needles import MIN_NEEDLE_BYTES, base64_fragments, derive
from pytest_stexcel_privacy.people.persons import (
    SEARCHABLE_FIELDS,
    Person,
    assemble,
    iban_valid,
    use_extra_fields,
)
from pytest_stexcel_privacy.people.strategies import persons
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher


def forms_of(person: Person, field: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for needle in person.needles:
        if needle.field == field:
            found.setdefault(needle.form, set()).add(needle.text)
    return found


def found_in(person: Person, data: bytes) -> set[tuple[str, str]]:
    matcher = NeedleMatcher(person.needles)
    return {(n.field, n.form) for _, group in matcher.search(data) for n in group}


def test_every_searchable_field_has_needles_and_a_canary() -> None:
    person = assemble(given="Zoë", family="O'Brien")
    for field in SEARCHABLE_FIELDS:
        forms = forms_of(person, field)
        assert "exact" in forms or "digits" in forms, field
        if field not in ("phone", "card_number"):
            assert forms["canary"] == {person.mark(field)}


def test_email_hashes_use_the_normalised_address() -> None:
    person = assemble(given="Ann", family="Lee", plus_tag="news")
    normalised = person.email.strip().lower().encode()
    forms = forms_of(person, "email")
    assert forms["md5"] == {hashlib.md5(normalised).hexdigest()}
    assert forms["sha1"] == {hashlib.sha1(normalised).hexdigest()}
    assert forms["sha256"] == {hashlib.sha256(normalised).hexdigest()}
    stored_upper = hashlib.sha256(normalised).hexdigest().upper().encode()
    assert ("email", "sha256") in found_in(person, b"dedup=" + stored_upper)


def test_phone_forms_cover_digits_e164_and_groupings() -> None:
    person = assemble(given="Ann", family="Lee")
    digits = "".join(c for c in person.phone if c.isdigit())
    forms = forms_of(person, "phone")
    assert forms["digits"] == {digits}
    assert forms["e164"] == {f"+1{digits}"}
    assert f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" in forms["grouped"]
    assert ("phone", "digits") in found_in(person, f"tel:{digits};".encode())


def test_card_number_digit_and_grouped_forms() -> None:
    person = assemble(given="Ann", family="Lee")
    number = person.card.number
    spaced = " ".join(number[i : i + 4] for i in range(0, 16, 4))
    assert ("card_number", "grouped") in found_in(person, f"card {spaced} ok".encode())
    assert ("card_number", "digits") in found_in(person, number.encode())


@pytest.mark.parametrize(
    ("field", "encode", "form"),
    [
        ("employer", lambda v: urllib.parse.quote(v, safe=""), "url"),
        ("employer", lambda v: urllib.parse.quote_plus(v), "url"),
        ("last_name", lambda v: json.dumps({"v": v}), "json"),
        ("street", lambda v: json.dumps({"v": v + "\n"}), "exact"),
        ("employer", lambda v: v.upper(), "exact"),
        ("employer", lambda v: "  ".join(v.split(" ")), "canary"),
    ],
)
def test_encoded_values_are_found(field: str, encode: object, form: str) -> None:
    person = assemble(given="D'Angelo", family="Nguyễn", company="Tiffany & Sons")
    data = f"prefix {encode(person.value(field))} suffix".encode()  # type: ignore[operator]
    assert (field, form) in found_in(person, data)


@given(persons(), st.binary(max_size=5), st.binary(max_size=5))
def test_base64_found_at_any_alignment(person: Person, before: bytes, after: bytes) -> None:
    blob = base64.b64encode(before + person.street.encode() + after)
    assert ("street", "base64") in found_in(person, b"data:" + blob)


def test_base64_fragments_are_fully_determined_by_the_value() -> None:
    raw = b"hello world, canary"
    for offset, fragment in zip(range(3), list(base64_fragments(raw))[::2], strict=True):
        for pad in (b"\x00", b"\xff", b"a"):
            encoded = base64.b64encode(pad * offset + raw).decode()
            assert fragment in encoded


@given(persons())
def test_needles_are_long_enough_and_unique_per_field(person: Person) -> None:
    assert all(len(n.key) >= MIN_NEEDLE_BYTES for n in person.needles)
    for field in SEARCHABLE_FIELDS:
        keys = [n.key for n in person.needles if n.field == field]
        assert len(keys) == len(set(keys)), field


def test_other_persons_needles_do_not_match() -> None:
    one, other = assemble(given="Ann", family="Lee"), assemble(given="Ann", family="Lee")
    data = "\n".join(other.value(f) for f in SEARCHABLE_FIELDS).encode()
    assert found_in(one, data) == set()


def test_derive_drops_needles_too_short_to_be_proof() -> None:
    assert derive("p", "job_title", "CEO", canary=None) == []


# --- identifiers the policy does not name: the adapter's extra_fields ---------------------


@pytest.fixture
def with_extra_fields() -> Iterator[None]:
    use_extra_fields({"tax_id": "identifier", "loyalty_card": "digits", "iban": "iban"})
    yield
    use_extra_fields(())


@pytest.mark.usefixtures("with_extra_fields")
def test_extra_fields_get_a_value_of_their_shape_unique_to_the_person() -> None:
    ann, bob = assemble(given="Ann", family="Lee"), assemble(given="Ann", family="Lee")
    assert set(ann.extra) == {"tax_id", "loyalty_card", "iban"}
    assert re.fullmatch(rf"\d\d-{ann.canary.upper()}-\d{{4}}", ann.extra["tax_id"])
    assert re.fullmatch(r"\d{4}( \d{4}){3}", ann.extra["loyalty_card"])
    iban = ann.extra["iban"]
    assert re.fullmatch(r"MT\d\d( [0-9A-Z]{4}){6} [0-9A-Z]{3}", iban)
    assert iban_valid(iban)
    assert not iban_valid(iban.replace("STEX", "STEY"))
    assert ann.canary.upper() in iban.replace(" ", "")
    for field in ann.extra:
        assert ann.value(field) == ann.extra[field]
        assert ann.extra[field] != bob.extra[field]
    # the digits spell the canary: a hit names its person even without letters
    assert ann.extra["loyalty_card"] != bob.extra["loyalty_card"]


@pytest.mark.usefixtures("with_extra_fields")
def test_extra_field_needles_exact_compact_and_either_case() -> None:
    ann = assemble(given="Ann", family="Lee")
    tax_id = ann.extra["tax_id"]
    compact = tax_id.replace("-", "")
    forms = forms_of(ann, "tax_id")
    assert forms["exact"] == {tax_id}
    assert forms["compact"] == {compact}
    for stored, field, form in (
        (tax_id, "tax_id", "exact"),
        (tax_id.lower(), "tax_id", "exact"),
        (compact, "tax_id", "compact"),
        (compact.lower(), "tax_id", "compact"),
        (ann.extra["iban"], "iban", "exact"),
        (ann.extra["iban"].replace(" ", ""), "iban", "compact"),
        (ann.extra["loyalty_card"].replace(" ", ""), "loyalty_card", "compact"),
    ):
        assert (field, form) in found_in(ann, f"k={stored};".encode()), stored
    assert ("tax_id", "compact") in found_in(ann, f"idx {compact}".encode())
    other = assemble(given="Ann", family="Lee")
    assert not found_in(ann, "\n".join(other.extra.values()).encode())


def test_without_extra_fields_persons_carry_none() -> None:
    assert assemble(given="Ann", family="Lee").extra == {}


@pytest.mark.parametrize(
    ("shape", "form"),
    [
        ("+1{digits}", "e164"),
        ("tel:+1{digits};", "e164"),
        ("{digits}", "digits"),
        ("{area}-{exchange}-{line}", "grouped"),
    ],
)
def test_a_phone_hit_is_named_by_its_most_specific_form(shape: str, form: str) -> None:
    """An E.164 number holds the bare digits too: the hit is reported as E.164."""
    person = assemble(given="Ann", family="Lee")
    digits = "".join(c for c in person.phone if c.isdigit())
    text = shape.format(digits=digits, area=digits[:3], exchange=digits[3:6], line=digits[6:])
    strongest = NeedleMatcher(person.needles).strongest(f"phone={text}".encode())
    assert strongest is not None
    assert (strongest.field, strongest.form) == ("phone", form)


def test_many_values_are_searched_at_once_as_each_on_its_own() -> None:
    from pytest_stexcel_privacy.scan.matcher import NeedleMatcher

    ann = assemble(given="Ann", family="Lee")
    matcher = NeedleMatcher(ann.needles)
    email = ann.email.encode()
    parts = [b"", b"x" + email.upper(), b"nothing", email[:5], email[5:], b"y", email]
    assert matcher.holding(parts) == [matcher.matches(part) for part in parts]
    assert matcher.holding(parts) == [False, True, False, False, False, False, True]
