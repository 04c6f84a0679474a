"""A store's last scan, reused while the store provably has not changed.

A state machine scans every store after every step, and most steps leave most
stores alone. A scanner that can prove a store unchanged offers a *witness*
(``witness()``): a value that differs whenever the store may have changed, such
as a digest of a SQLite database's files or the count of changing requests the
suite's own S3 server served. The witness is taken before the store is read,
so a change made while it was read shows at the next scan. When the witness
is the same and the needles are among those searched then, the earlier hits
(of the needles asked for now) are the answer. A scanner without a witness, or
one returning None ("cannot prove it now"), is read in full every time.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from ..people.needles import Needle
from .residue import Hit


@dataclass(frozen=True)
class StoreScan:
    """What one store's scan found, and what proves the store still as it was read."""

    witness: Hashable
    needles: frozenset[Needle]
    hits: tuple[Hit, ...]
    scanned: tuple[str, ...]  # the locations read, as ``scanned`` lists them
    searched: tuple[int, int]  # values and bytes searched

    def answers(self, witness: Hashable | None, needles: frozenset[Needle]) -> bool:
        """Whether this scan stands for one of ``needles`` now, the store showing
        ``witness``."""
        return witness is not None and witness == self.witness and needles <= self.needles

    def hits_of(self, needles: frozenset[Needle]) -> list[Hit]:
        return [hit for hit in self.hits if hit.needle in needles]


def witness_of(scanner: object) -> Hashable | None:
    """The scanner's witness of its store's state, None if it offers none. Taking it may
    fail (the store just went away): then nothing is proven, and the scan that follows
    says what is wrong."""
    witness = getattr(scanner, "witness", None)
    if witness is None:
        return None
    try:
        value: Hashable | None = witness()
    except Exception:
        return None
    return value


def record(
    witness: Hashable | None,
    needles: frozenset[Needle],
    hits: Sequence[Hit],
    scanned: Sequence[str],
    searched: tuple[int, int],
) -> StoreScan | None:
    """The scan to reuse next time, if the store offered a witness."""
    if witness is None:
        return None
    return StoreScan(witness, needles, tuple(hits), tuple(scanned), searched)
