"""What every SQL database's scanner shares: the store, its engine, quoting, row locators.

``sql.py`` opens the engine and picks the subclass by dialect, so a
scanner only ever sees its own kind of database.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..contract.decoding import ValueDecoder
from ..contract.stores import SQLStore
from ..errors import StoreUnreadable
from ..findings.masking import mask
from .decoders import ContainerUnreadable, decoded_matches
from .matcher import NeedleMatcher
from .residue import Hit
from .scanner import DEFAULT_SCAN_TIMEOUT


class SQLScanner(ABC):
    def __init__(
        self,
        store: SQLStore,
        engine: Engine,
        owns_engine: bool,
        timeout: float = DEFAULT_SCAN_TIMEOUT,
    ) -> None:
        self.store = store
        self.engine = engine
        self.owns_engine = owns_engine  # False for the module's own Engine: never disposed
        self.timeout = timeout  # seconds a query, or its wait for a lock, may take

    @classmethod
    @abstractmethod
    def engine_for(cls, store: SQLStore, url: sa.URL) -> Engine:
        """An engine that reads the store's database; ``StoreUnreadable`` if none can."""

    @abstractmethod
    def open(self) -> None:
        """Probe the database, raising ``StoreUnreadable`` naming the store if it fails."""

    @abstractmethod
    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]:
        """Every needle in every table, appending each table read to ``scanned``."""

    def close(self) -> None:
        if self.owns_engine:
            self.engine.dispose()

    def quote(self, identifier: str) -> str:
        return self.engine.dialect.identifier_preparer.quote_identifier(identifier)


def describe_locator(matcher: NeedleMatcher, names: Sequence[str], values: Any) -> str:
    """``id=5`` or ``ctid=(0,3)``; "" when the table has no locator columns."""
    parts = []
    for name, value in zip(names, values, strict=True):
        text = str(value)
        if matcher.matches(text.encode("utf-8", "surrogateescape")):
            text = mask(text)  # a primary key can itself be personal data
        parts.append(f"{name}={text[:60]}")
    return ", ".join(parts)


def cell_hits(
    store: str,
    where: str,
    data: bytes,
    locate: Callable[[], str],
    matcher: NeedleMatcher,
    decoders: Sequence[ValueDecoder],
    structure: str,
) -> Iterator[Hit]:
    """The needles in one cell and inside its encodings. ``locate`` names the row only
    once the cell holds one: most rows read back hold nothing (a cell only looked
    encoded), and naming one costs a search of its key; pass it cached per row."""
    for _, group in matcher.search(data):
        for needle in group:
            yield Hit(store, where, locate(), needle, structure)
    try:
        for path, needle in decoded_matches(matcher, data, decoders):
            yield Hit(store, where, f"{locate()}, in {path}", needle, structure)
    except ContainerUnreadable as exc:
        raise StoreUnreadable(store, f"{where} [{locate()}]: {exc}") from exc
