"""What a declared Retention may excuse: a whole store is never one of them."""

from __future__ import annotations

from datetime import date

import pytest

from pytest_stexcel_privacy import Retention
from pytest_stexcel_privacy.checks.retention_rules import covers_any_name, retention_problems

TODAY = date(2026, 6, 15)


def retention(*locations: str) -> Retention:
    return Retention(
        exception="legal-obligation",
        store="erp-db",
        locations=locations,
        fields=("email",),
        reason="invoices are kept for the tax authority",
    )


@pytest.mark.parametrize("pattern", ["*", "**", "?*", "*.*", "*.?*", "[a-z]*", "[!x]*", "*/*"])
def test_a_pattern_matching_any_name_is_refused(pattern: str) -> None:
    assert covers_any_name(pattern)
    problems = retention_problems(retention("invoices.email", pattern), {"erp-db"}, TODAY)
    assert problems == [f"location {pattern!r} covers a whole store; name tables or files"]


@pytest.mark.parametrize("pattern", ["invoices.email", "audit_*.payload", "logs/*.log", "q*"])
def test_a_pattern_naming_tables_or_files_is_sound(pattern: str) -> None:
    assert not covers_any_name(pattern)
    assert retention_problems(retention(pattern), {"erp-db"}, TODAY) == []
