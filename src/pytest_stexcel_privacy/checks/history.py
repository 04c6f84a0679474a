"""The kinds of history an adapter can give a person: what a scenario may drive."""

from __future__ import annotations

from ..harness.holder import PrivacyHarness


def history_kinds(harness: PrivacyHarness) -> list[str]:
    kinds: list[str] = []
    if harness.adapter.implements("add_history"):
        kinds.extend(harness.adapter.profile.history_kinds)
    if harness.adapter.implements("purchase"):
        kinds.append("purchase")
    return kinds
