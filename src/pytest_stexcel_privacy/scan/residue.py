"""What a scan found: hits as evidence, and what was (and was not) looked at."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..findings.evidence import Evidence
from ..findings.masking import mask
from ..people.needles import FORM_RANK, Needle


@dataclass(frozen=True)
class Hit:
    """One field of one person found in one place of one store."""

    store: str
    location: str  # "table.column" or a file path relative to the store root
    locator: str  # "id=5", "rowid=7", "line 12"
    needle: Needle
    # The engine-internal structure the location is ("the FTS5 index of 'notes'"), or ""
    # for the module's own tables, files and keys; see engine_internals.py.
    structure: str = ""

    @property
    def engine_internal(self) -> bool:
        """Whether the location is the engine's bookkeeping rather than the module's records."""
        return bool(self.structure)

    @property
    def person(self) -> str:
        return self.needle.person

    @property
    def field(self) -> str:
        return self.needle.field

    @property
    def place(self) -> tuple[str, str, str]:
        return (self.store, self.location, self.locator)

    def describe(self) -> str:
        inside = f" ({self.structure})" if self.structure else ""
        return (
            f"{self.store} {self.location}{inside} [{self.locator}]: {self.field} "
            f"as {self.needle.form} {mask(self.needle.text)!r}"
        )

    def evidence(self, note: str = "") -> Evidence:
        return Evidence(
            text=self.describe() + (f" - {note}" if note else ""),
            store=self.store,
            location=self.location,
            locator=self.locator,
            field=self.field,
            form=self.needle.form,
            value=mask(self.needle.text),
        )


@dataclass
class Residue:
    """All hits of one scan, one per (place, person, field) in its most specific form."""

    hits: list[Hit] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)  # "store: table" / "store: path"

    @classmethod
    def collapse(cls, hits: Iterable[Hit], scanned: list[str]) -> Residue:
        best: dict[tuple[str, str, str, str, str], Hit] = {}
        for hit in hits:
            key = (*hit.place, hit.person, hit.field)
            kept = best.get(key)
            if kept is None or FORM_RANK[hit.needle.form] < FORM_RANK[kept.needle.form]:
                best[key] = hit
        ordered = sorted(best.values(), key=_reading_order)
        return cls(ordered, scanned)

    def of(self, person: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.person == person]

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)


def _reading_order(hit: Hit) -> tuple[object, ...]:
    """Store, location, then locator with its numbers compared as numbers (id=3 before id=11)."""
    locator = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", hit.locator)
    )
    return (hit.store, hit.location, locator, hit.person, hit.field)
