"""How a check's phases become its status: a NotApplicable skip is not an ordinary skip."""

from __future__ import annotations

import pytest

from pytest_stexcel_privacy.findings.outcomes import (
    NotApplicable,
    Status,
    phase_status,
    skip_summary,
)


def test_not_applicable_is_the_skip_pytest_raises() -> None:
    error = NotApplicable("ToyAdapter does not implement processors()")
    assert isinstance(error, pytest.skip.Exception)
    assert error.msg == "not applicable: ToyAdapter does not implement processors()"


def test_only_a_not_applicable_skip_counts_as_not_applicable() -> None:
    """An ordinary skip of a selected check is a check that did not run: an error."""
    with pytest.raises(pytest.skip.Exception) as ordinary:
        pytest.skip("no database here")
    missing = NotApplicable("no processors()")
    assert phase_status("setup", "skipped", missing, None) == Status.NOT_APPLICABLE
    assert phase_status("setup", "skipped", ordinary.value, None) == Status.ERROR
    assert skip_summary(ordinary.value).startswith("skipped: no database here — ")
