"""The kinds of history an adapter can give a person: what a scenario may drive."""

from __future__ import annotations

from ..errors import AdapterContractError
from ..harness.holder import PrivacyHarness


def history_kinds(harness: PrivacyHarness) -> list[str]:
    kinds: list[str] = []
    if harness.adapter.implements("add_history"):
        declared = getattr(harness.adapter.adapter, "history_kinds", ())
        if isinstance(declared, str) or not all(isinstance(k, str) for k in declared):
            raise AdapterContractError(
                f"{harness.adapter.name}.history_kinds must be a sequence of strings, "
                f"got {declared!r}"
            )
        kinds.extend(declared)
    if harness.adapter.implements("purchase"):
        kinds.append("purchase")
    return kinds
