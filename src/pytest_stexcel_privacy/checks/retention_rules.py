"""What a declared Retention may excuse: shared by every check that judges residue.

A retention is sound when it cites one of the policy's deletion exceptions,
names a declared store, specific locations and fields, a reason, and has not
expired. Only sound retentions excuse a hit, and only inside the locations
they name.
"""

from __future__ import annotations

import fnmatch
import re
from datetime import date

from ..clauses import DELETION_EXCEPTIONS
from ..contract.adapter import Retention
from ..harness.holder import PrivacyHarness
from ..people.persons import SEARCHABLE_FIELDS, mint
from ..scan import Hit


def retention_problems(retention: Retention, store_names: set[str], today: date) -> list[str]:
    """Why a declared retention cannot excuse anything (empty when it is sound)."""
    problems = []
    if retention.exception not in DELETION_EXCEPTIONS:
        problems.append(
            f"cites {retention.exception!r}, which is not one of the policy's deletion "
            f"exceptions ({', '.join(DELETION_EXCEPTIONS)})"
        )
    if retention.store not in store_names:
        problems.append(
            f"names store {retention.store!r}, which stores() does not declare "
            f"({', '.join(sorted(store_names))})"
        )
    if not retention.locations:
        problems.append("names no locations")
    for pattern in retention.locations:
        if covers_any_name(pattern):
            problems.append(f"location {pattern!r} covers a whole store; name tables or files")
    if not retention.fields:
        problems.append("names no fields")
    # The policy's fields, and the module's own identifiers (the adapter's extra_fields).
    known = (*SEARCHABLE_FIELDS, *(name for name, _ in mint.extra_fields))
    for field in retention.fields:
        if field not in known:
            problems.append(f"field {field!r} is not one of {', '.join(known)}")
    if not retention.reason.strip():
        problems.append("gives no reason")
    if retention.expires is not None and retention.expires < today:
        problems.append(f"expired on {retention.expires.isoformat()}")
    return problems


# Names no retention has reason to cover: a pattern matching one of them matches anything.
_PROBE_NAMES = ("~~.~~", "~~", "~~/~~.~~", "~")


def covers_any_name(pattern: str) -> bool:
    """Whether ``pattern`` names no table, column or file: only wildcards, classes, dots.

    ``*``, ``**``, ``?*``, ``*.*``, ``*.?*`` and ``[a-z]*`` all match any name, so a
    retention using one would excuse everything in its store.
    """
    literal = re.sub(r"\[[^\]]*\]", "", pattern)
    if not re.sub(r"[*?./\\\s]", "", literal):
        return True
    return any(fnmatch.fnmatchcase(name, pattern) for name in _PROBE_NAMES)


def sound_retentions(harness: PrivacyHarness) -> tuple[list[Retention], list[str]]:
    names = {store.name for store in harness.scanner.stores}
    sound: list[Retention] = []
    problems: list[str] = []
    for retention in harness.adapter.retentions():
        found = retention_problems(retention, names, date.today())
        if found:
            problems.extend(f"{describe_retention(retention)} {problem}" for problem in found)
        else:
            sound.append(retention)
    return sound, problems


def describe_retention(retention: Retention) -> str:
    return f"Retention({retention.exception!r} in {retention.store} {list(retention.locations)})"


def covers_location(retention: Retention, hit: Hit) -> bool:
    """``table.column`` patterns match in any schema: ``invoices.name`` covers
    ``erp.invoices.name`` (PostgreSQL, MariaDB and attached SQLite databases)."""
    if hit.store != retention.store:
        return False
    qualified = "/" not in hit.location and hit.location.count(".") >= 2
    unqualified = hit.location.split(".", 1)[1] if qualified else None
    return any(
        fnmatch.fnmatchcase(hit.location, pattern)
        or (
            unqualified is not None
            and pattern.count(".") == 1
            and fnmatch.fnmatchcase(unqualified, pattern)
        )
        for pattern in retention.locations
    )
