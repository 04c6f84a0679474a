"""A row's searchable bytes: its cells and everything decoded from them, worked out once.

SQLite's scan asks, for every row of every table after every step, whether
the row holds a needle, raw or inside an encoding (``decoders.py``). Sniffing
and decoding cost far more than the search, and they do not depend on the
needles: so a row's cells, and every layer decoded from them, are joined once
into one lower-cased text, remembered by the cells' exact bytes, and each
later scan is one search of that text, whoever's needles it is for. Only rows
decoded with the built-in decoders alone are remembered (pure functions of the
bytes); a row whose value cannot be decoded is never remembered, so it is
looked at again, and reported, every time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ..contract.decoding import ValueDecoder
from .decoders import BUILTIN_VALUE_DECODERS, MIN_ENCODED_BYTES, decoded_parts

# Never in UTF-8 text, so in no needle: a match cannot span two parts.
SEPARATOR = b"\xff"
MAX_KEPT_BYTES = 128 << 20

_KEPT: dict[tuple[bytes | None, ...], bytes] = {}
_LOCK = threading.Lock()
_kept = 0


def searchable_row(cells: tuple[bytes | None, ...], decoders: Sequence[ValueDecoder]) -> bytes:
    """The cells (None skipped) and every layer decoded from each, joined by
    ``SEPARATOR`` and lower-cased. Raises what decoding a cell raised."""
    global _kept
    remembered = tuple(decoders) == BUILTIN_VALUE_DECODERS
    kept = _KEPT.get(cells) if remembered else None
    if kept is not None:
        return kept
    values = [cell for cell in cells if cell is not None]
    parts: list[bytes] = list(values)
    for value in values:
        if len(value) >= MIN_ENCODED_BYTES:
            parts.extend(decoded_parts(value, decoders))
    text = SEPARATOR.join(parts).lower()
    if remembered:
        size = len(text) + sum(len(value) for value in values)
        with _LOCK:
            if _kept + size <= MAX_KEPT_BYTES:
                _KEPT[cells] = text
                _kept += size
    return text


def forget_searchable_rows() -> None:
    """Forget every row remembered (for tests)."""
    global _kept
    with _LOCK:
        _KEPT.clear()
        _kept = 0
