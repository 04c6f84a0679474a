"""Masking: values are hidden unless unmasking is in force, and only while it is."""

from __future__ import annotations

import pytest

from pytest_stexcel_privacy.findings.masking import MASKED, Masking, mask, masking

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
