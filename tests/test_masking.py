"""Masking: values are hidden unless unmasking is in force, and only while it is."""

from __future__ import annotations

import pytest

from pytest_stexcel_privacy.findings.masking import MASKED, Masking, mask, masking, redact
from pytest_stexcel_privacy.people.persons import assemble

EMAIL = "ada.wire@example.com"
HIDDEN = "ad****************om"


def test_a_value_keeps_two_characters_each_end() -> None:
    assert MASKED.mask(EMAIL) == HIDDEN
    assert MASKED.mask("12345678") == "********"  # too short to show any of it


def test_values_are_masked_by_default() -> None:
    assert mask(EMAIL) == HIDDEN


def test_unmasking_holds_inside_its_block_only() -> None:
    with masking(Masking(unmask=True)):
        assert mask(EMAIL) == EMAIL
        with masking(MASKED):
            assert mask(EMAIL) == HIDDEN
        assert mask(EMAIL) == EMAIL
    assert mask(EMAIL) == HIDDEN


def test_unmasking_asked_by_a_nested_run_ends_with_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_inner="""
from pytest_stexcel_privacy.findings.masking import mask

def test_inner():
    assert mask("ada.wire@example.com") == "ada.wire@example.com"
"""
    )
    inner = pytester.runpytest_inprocess("--privacy-unmask", "-p", "no:cacheprovider")
    inner.assert_outcomes(passed=1)
    assert mask(EMAIL) == HIDDEN


def test_a_value_minted_after_a_redaction_is_masked_by_the_next() -> None:
    """Redaction keeps up with the mint, reading each value once: one handed out after
    a redaction is looked for by the next."""
    redact(f"before: {assemble(given='Ada', family='Lovelace').email}")
    later = assemble(given="Ada", family="Byron")
    redacted = redact(f"after: {later.email} {later.phone} {later.card.number}")
    assert later.canary not in redacted.lower()
    assert later.card.number[6:12] not in redacted
    assert "".join(c for c in later.phone if c.isdigit())[-7:] not in redacted.replace("-", "")


def test_redact_masks_every_minted_value_in_any_text() -> None:
    """The net under every output: each word carrying a minted canary, and each minted
    phone or card number however punctuated, is masked; anything else is left alone."""
    person = assemble(given="Zoë", family="O'Brien", plus_tag="news")
    digits = "".join(c for c in person.phone if c.isdigit())
    card = person.card.number
    grouped = " ".join([card[:4], card[4:8], card[8:12], card[12:]])
    text = (
        f"refused {person.email} ({person.full_name}, {person.street}); "
        f"call {person.phone} or +1{digits}; card {card} / {grouped}; "
        f"https://shop.example/u?e={person.email.upper().replace('@', '%40')}&t=1 "
        # the mint never hands out an N11 area code: this number is nobody's
        "unrelated: (311) 555-0100 4111111111111111 hello@shop.example"
    )
    redacted = redact(text)
    # the person's own part only: their number may be 555-0100 too, under another area code
    own = redacted.partition("unrelated:")[0]
    assert person.canary not in own.lower()
    assert digits[-7:] not in own.replace("-", "").replace(" ", "")
    assert card[6:12] not in own.replace(" ", "")
    assert "unrelated: (311) 555-0100 4111111111111111 hello@shop.example" in redacted
    with masking(Masking(unmask=True)):
        assert redact(text) == text
