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
    long_running: bool = False  # hypothesis over whole lives: started first under xdist


CHECKS: dict[str, CheckSpec] = {}


def privacy_check(
    clause: str, *, needs: tuple[str, ...], long_running: bool = False
) -> Callable[[F], F]:
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
            func.__name__, clause, needs, inspect.cleandoc(func.__doc__ or ""), long_running
        )
        marked: F = pytest.mark.privacy(clause, needs=needs)(func)
        return marked

    return register


def long_checks_first(items: list[pytest.Item]) -> None:
    """Put the checks that run long before everything else, in place, keeping each group's
    order. Under xdist the workers then start on them, and take the short ones as they
    finish (best with ``--dist worksteal``), instead of one worker ending alone on a long
    check picked up last."""
    items.sort(key=lambda item: not _runs_long(item))


def _runs_long(item: pytest.Item) -> bool:
    spec = CHECKS.get(getattr(item, "originalname", item.name))
    return spec is not None and spec.long_running
