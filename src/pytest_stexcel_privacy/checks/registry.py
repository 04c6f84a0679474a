"""The registry of suite checks and the decorator that feeds it.

Registering validates a check once, at import: its clause must exist, its
capabilities must be adapter methods, its name must be unique and it must
take the ``privacy_harness`` fixture. The decorator also applies the
``privacy`` marker, which is how the plugin knows a test's clause.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from ..clauses import clause as lookup_clause
from ..contract.adapter import CAPABILITIES

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CheckSpec:
    name: str
    clause: str
    needs: tuple[str, ...]
    doc: str
    # How long the check runs, relative to the others: 0 for a short one; a check searching
    # whole lives 1, the lifecycle (every promise, after every step) 2. Under xdist the
    # costly ones are started first and spread over the workers (worker_order.py).
    cost: int = 0

    @property
    def long_running(self) -> bool:
        return self.cost > 0


CHECKS: dict[str, CheckSpec] = {}


def privacy_check(clause: str, *, needs: tuple[str, ...], cost: int = 0) -> Callable[[F], F]:
    lookup_clause(clause)
    unknown = [n for n in needs if n not in CAPABILITIES]
    if unknown:
        raise ValueError(f"unknown adapter capabilities {unknown}; known: {list(CAPABILITIES)}")

    def register(func: F) -> F:
        if not func.__name__.startswith("test_"):
            raise ValueError(f"check {func.__qualname__} must be named test_* to be collected")
        if "privacy_harness" not in inspect.signature(func).parameters:
            raise ValueError(f"check {func.__qualname__} must take the privacy_harness fixture")
        if func.__name__ in CHECKS:
            raise ValueError(f"a check named {func.__name__} is already registered")
        CHECKS[func.__name__] = CheckSpec(
            func.__name__, clause, needs, inspect.cleandoc(func.__doc__ or ""), cost
        )
        marked: F = pytest.mark.privacy(clause, needs=needs)(func)
        return marked

    return register
