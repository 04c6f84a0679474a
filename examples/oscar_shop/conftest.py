"""The oscar shop's privacy_adapter fixture: a fresh shop per check, on committed data."""

from __future__ import annotations

from typing import Any

import pytest

from oscar_privacy import OscarShopAdapter
from pytest_stexcel_privacy.django import DjangoSinks, django_sinks  # noqa: F401 (the fixture)


@pytest.fixture
def privacy_adapter(transactional_db: Any, django_sinks: DjangoSinks) -> OscarShopAdapter:  # noqa: F811
    """``transactional_db``: the suite reads with its own connection, so rows must commit."""
    return OscarShopAdapter(django_sinks)
