"""Values already searched and found clean, so a store scanned after every step is not
searched again.

A state machine scans every store after every step, for much the same needles each
time, and most of a store has not changed since the last scan. A value (a row's
cells, a file's bytes) that held no needle, raw or inside any encoding, holds none
the next time for the same needles: it is remembered by its exact bytes (a file by
a digest of them), never by a time or a size, so whatever changed is searched
again. Only values searched with the built-in decoders alone are remembered, as
those are pure functions of the bytes; a store with decoders of its own, or a
value that raised, is searched in full every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence

from ..contract.decoding import ValueDecoder
from .decoders import BUILTIN_VALUE_DECODERS
from .matcher import NeedleMatcher

# Sets of needles remembered at once (a machine's scans alternate between a few), and
# the bytes of values remembered for each.
MAX_NEEDLE_SETS = 4
MAX_KEPT_BYTES = 64 << 20


class CleanValues:
    """The values found clean for one set of needles, each with what its search counted
    (values, bytes), so that a search skipped still counts as it did: the report's
    coverage must not depend on which checks ran before in the process."""

    def __init__(self) -> None:
        self._values: dict[Hashable, tuple[int, int]] = {}
        self._kept = 0
        self._lock = threading.Lock()

    def searched(self, value: Hashable) -> tuple[int, int] | None:
        """What searching ``value`` counted, if it was found clean; None if it was not."""
        return self._values.get(value)

    def add(self, value: Hashable, size: int, searched: tuple[int, int]) -> None:
        """Remember ``value`` (``size`` bytes of it) as clean, while there is room."""
        with self._lock:
            if self._kept + size <= MAX_KEPT_BYTES:
                self._values[value] = searched
                self._kept += size


_BY_NEEDLES: OrderedDict[tuple[bytes, ...], CleanValues] = OrderedDict()
_LOCK = threading.Lock()


def clean_values(matcher: NeedleMatcher, decoders: Sequence[ValueDecoder]) -> CleanValues | None:
    """What was found clean for ``matcher``'s needles with ``decoders``; None when nothing
    may be remembered (no needles, or decoders other than the built-ins)."""
    if not matcher or tuple(decoders) != BUILTIN_VALUE_DECODERS:
        return None
    with _LOCK:
        found = _BY_NEEDLES.get(matcher.keys)
        if found is None:
            found = _BY_NEEDLES[matcher.keys] = CleanValues()
            while len(_BY_NEEDLES) > MAX_NEEDLE_SETS:
                _BY_NEEDLES.popitem(last=False)
        else:
            _BY_NEEDLES.move_to_end(matcher.keys)
        return found


def forget_clean_values() -> None:
    """Forget every value found clean (tests, and a run that wants every scan in full)."""
    with _LOCK:
        _BY_NEEDLES.clear()
