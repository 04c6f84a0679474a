"""Hypothesis strategies for synthetic people, for users' own property tests.

The public home of :mod:`pytest_stexcel_privacy.people.strategies`.
"""

from __future__ import annotations

from .people.strategies import adult_birth_dates, age_cases, names, persons, sign_up_moments

__all__ = ["adult_birth_dates", "age_cases", "names", "persons", "sign_up_moments"]
