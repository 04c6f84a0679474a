"""What a check covered, in words: what a reviewer reads to know what a PASS means.

Derived only from the statistics the check recorded (findings/statistics.py),
never from the check's name, so a new check reads right without an entry here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..findings.outcomes import Status
from ..findings.statistics import Finding

# What one scanned location of a store is, by the store's kind.
LOCATION_UNITS = {"sql": "table", "files": "file", "s3": "object version", "redis": "key"}
# How pytest prefixes the message of an outcome it raised (pytest.fail, pytest.skip ...).
NA_PREFIX = "not applicable: "  # how NotApplicable words its reason
OUTCOME_PREFIX = re.compile(r"^(?:Failed|Skipped|XFailed|Exit): ")


def coverage_lines(statistics: Mapping[str, Any]) -> list[str]:
    """Each thing the check did, as a sentence; [] when it recorded nothing (no harness)."""
    if not statistics:
        return []
    lines = []
    fixed = int(statistics.get("fixed_examples", 0))
    generated = int(statistics.get("generated_examples", 0))
    if fixed or generated:
        failing = int(statistics.get("failing_examples", 0))
        lines.append(
            f"Examples: {fixed} fixed, {generated} generated"
            + (f", {failing} failing" if failing else "")
        )
    stores: Mapping[str, Mapping[str, Any]] = statistics.get("stores") or {}
    if stores:
        scans = int(statistics.get("scans", 0))
        parts = [_store(name, entry) for name, entry in stores.items()]
        lines.append(
            f"Scanned {_count(len(stores), 'store')} {_count(scans, 'time')}: " + "; ".join(parts)
        )
    forms = list(statistics.get("needle_forms") or [])
    if forms:
        persons = int(statistics.get("persons_searched", 0))
        lines.append(
            f"Searched {_count(len(forms), 'value form')} of up to {_count(persons, 'person')}: "
            + ", ".join(forms)
        )
    checked: Mapping[str, int] = statistics.get("checked") or {}
    if checked:
        lines.append("Checked " + ", ".join(_count(n, what) for what, n in checked.items()))
    calls: Mapping[str, int] = statistics.get("adapter_calls") or {}
    driven = {method: n for method, n in calls.items() if method not in LISTINGS}
    if driven:
        lines.append(
            "Drove the module: "
            + ", ".join(f"{method}() {_count(n, 'time')}" for method, n in driven.items())
        )
    seeds = list(statistics.get("hypothesis_seeds") or [])
    if seeds:
        lines.append(f"Hypothesis seed{'s' if len(seeds) > 1 else ''} {', '.join(seeds)}")
    return lines or ["Recorded nothing it covered: it stopped before examining the module"]


# Adapter methods that only declare (stores, retentions, processors): not driving the module.
LISTINGS = frozenset({"stores", "retentions", "processors"})


def plain_summary(summary: str) -> str:
    """A finding's summary without pytest's outcome prefix ("Failed: ")."""
    return OUTCOME_PREFIX.sub("", summary, count=1)


def _store(name: str, entry: Mapping[str, Any]) -> str:
    kind = str(entry.get("kind", ""))
    amount = [_count(int(entry.get("location_count", 0)), LOCATION_UNITS.get(kind, "location"))]
    values, size = int(entry.get("values", 0)), int(entry.get("bytes", 0))
    if values:
        amount.append(f"{_count(values, 'value')} ({_size(size)}) read")
    return f"{name} ({kind}): {', '.join(amount)}"


def _count(n: int, unit: str) -> str:
    return f"{n:,} {unit}" + ("" if n == 1 else "s")


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB"):
        value /= 1000
        if value < 1000:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} GB"


def not_applicable(findings: Iterable[Finding]) -> list[tuple[str, str]]:
    """``(test name, reason)`` of each check that was not applicable."""
    return [
        (test_name(f), plain_summary(f.summary).removeprefix(NA_PREFIX) or "no reason given")
        for f in findings
        if f.status == Status.NOT_APPLICABLE
    ]


def test_name(finding: Finding) -> str:
    """The check's node id without its file: ``TestShop::test_age_gate_is_exact``."""
    return finding.nodeid.split("::", 1)[-1]


def shows_coverage(finding: Finding) -> bool:
    """A check that ran shows what it covered; a not-applicable one its reason instead."""
    return finding.status not in (Status.NOT_APPLICABLE, Status.NOT_TESTED)
