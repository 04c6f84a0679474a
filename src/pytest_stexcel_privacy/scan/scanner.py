"""The residue scanner: every declared store, every needle of the persons under test."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from ..contract.stores import Store
from ..errors import AdapterContractError, StoreUnreadable
from ..findings.masking import mask
from ..findings.statistics import CheckStatistics
from ..people.needles import FORM_RANK, Needle
from ..people.persons import Person
from .matcher import NeedleMatcher
from .residue import Hit, Residue
from .reuse import StoreScan, record, witness_of

# Store kind -> "module:factory" of its scanner; imported on first use so that
# declaring a store never imports its driver. SQL picks a scanner by dialect.
SCANNERS_BY_STORE_KIND: dict[str, str] = {
    "sql": "pytest_stexcel_privacy.scan.sql:sql_scanner_for",
    "files": "pytest_stexcel_privacy.scan.files:FileScanner",
    "s3": "pytest_stexcel_privacy.scan.s3:S3Scanner",
    "redis": "pytest_stexcel_privacy.scan.redis:RedisScanner",
}
# Kinds whose scanner bounds each query (and each wait for a lock) by ``timeout=`` seconds:
# a table the module keeps locked ends the scan with ``StoreUnreadable`` instead of a hang.
TIMED_STORE_KINDS = frozenset({"sql"})
# Kinds whose scanner keeps, within its own reads, what the suite's servers prove unchanged
# (an S3 bucket's listing, bodies, tags): ``reuse=False`` (``--privacy-rescan``) reads all.
PROVING_STORE_KINDS = frozenset({"s3"})
# The harness should pass its own (settings.call_timeout) to ResidueScanner.
DEFAULT_SCAN_TIMEOUT = 30.0


class StoreScanner(Protocol):
    def open(self) -> None: ...
    def close(self) -> None: ...
    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]: ...


def scanner_for(
    store: Store, timeout: float = DEFAULT_SCAN_TIMEOUT, reuse: bool = True
) -> StoreScanner:
    target = SCANNERS_BY_STORE_KIND.get(store.kind)
    if target is None:
        raise StoreUnreadable(
            store.name,
            f"this version has no scanner for {type(store).__name__}; its residue "
            "cannot be checked",
        )
    module, _, name = target.partition(":")
    factory = getattr(importlib.import_module(module), name)
    options: dict[str, Any] = {}
    if store.kind in TIMED_STORE_KINDS:
        options["timeout"] = timeout
    if store.kind in PROVING_STORE_KINDS:
        options["reuse"] = reuse
    scanner: StoreScanner = factory(store, **options)
    return scanner


class ResidueScanner:
    """Finds every trace of the given persons in every store.

    Open it once (``open`` probes each store and raises ``StoreUnreadable``
    naming the one that failed), then ``scan`` as often as needed. ``timeout``
    (seconds) bounds each query of a database scan, and each wait for a lock.
    """

    def __init__(
        self, stores: Sequence[Store], timeout: float = DEFAULT_SCAN_TIMEOUT, reuse: bool = True
    ) -> None:
        if not timeout > 0 or timeout == float("inf"):
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.timeout = timeout
        seen: dict[str, Store] = {}
        for store in stores:
            if not isinstance(store, Store):
                raise AdapterContractError(
                    f"stores() returned {store!r} ({type(store).__name__}); each item must be "
                    "a Store such as SQLStore(url) or FileStore(root)"
                )
            if store.name in seen:
                raise AdapterContractError(
                    f"stores() declares two stores named {store.name!r}; give each a unique "
                    "name= so evidence and retentions can tell them apart"
                )
            seen[store.name] = store
        self.stores: tuple[Store, ...] = tuple(stores)
        self._scanners: list[StoreScanner] = []
        # Where each scan's coverage is recorded (the check's statistics), if anywhere.
        self.statistics: CheckStatistics | None = None
        # Each store's last scan, reused while the store proves itself unchanged (reuse.py);
        # False reads every store in full every time.
        self.reuse = reuse
        self._last_scans: dict[str, StoreScan] = {}

    def open(self) -> ResidueScanner:
        if not self._scanners:
            scanners = []
            try:
                for store in self.stores:
                    scanner = scanner_for(store, self.timeout, self.reuse)
                    scanner.open()
                    scanners.append(scanner)
            except BaseException:
                for scanner in scanners:
                    scanner.close()
                raise
            self._scanners = scanners
        return self

    def close(self) -> None:
        for scanner in self._scanners:
            scanner.close()
        self._scanners = []
        self._last_scans.clear()

    def __enter__(self) -> ResidueScanner:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scan(self, persons: Iterable[Person | Needle]) -> Residue:
        """Search every store for every needle; raise ``StoreUnreadable`` if any store fails."""
        needles: list[Needle] = []
        for item in persons:
            needles.extend(item.needles if isinstance(item, Person) else (item,))
        matcher = NeedleMatcher(needles)
        self.open()
        hits: list[Hit] = []
        scanned: list[str] = []
        wanted = frozenset(matcher.needles)
        for store, scanner in zip(self.stores, self._scanners, strict=True):
            first, before = len(scanned), matcher.searched()
            witness = witness_of(scanner) if self.reuse else None
            last = self._last_scans.pop(store.name, None)
            if last is not None and last.answers(witness, wanted):
                found, searched = last.hits_of(wanted), last.searched
                scanned.extend(last.scanned)
            else:
                found = list(scanner.scan(matcher, scanned))
                now = matcher.searched()
                searched = (now[0] - before[0], now[1] - before[1])
                last = record(witness, wanted, found, scanned[first:], searched)
            if last is not None:
                self._last_scans[store.name] = last
            hits.extend(found)
            if self.statistics is not None:
                values, size = searched
                locations = [_location(store, matcher, s) for s in scanned[first:]]
                self.statistics.record_scan(store.name, store.kind, locations, values, size)
        if self.statistics is not None:
            whose = len({n.person for n in needles})
            self.statistics.record_needles((n.form for n in needles), whose, FORM_RANK)
        return Residue.collapse(hits, scanned)


def _location(store: Store, matcher: NeedleMatcher, scanned: str) -> str:
    """A scanned location without its store's name, masked if a person's value is in it."""
    location = scanned.removeprefix(f"{store.name}: ")
    # searched after this store's counts were taken, so it counts for no store
    return (
        mask(location) if matcher.matches(location.encode("utf-8", "surrogateescape")) else location
    )
