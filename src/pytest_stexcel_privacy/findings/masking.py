"""Masking of personal values before they reach any output.

Every value is masked unless the run asked to see synthetic values
(``--privacy-unmask``, for debugging a module locally). Only the suite's own
synthetic persons' values ever reach evidence, so unmasking reveals nothing
real.
"""

from __future__ import annotations

MASK = "*"
_reveal = False


def reveal_synthetic_values(on: bool) -> None:
    global _reveal
    _reveal = on


def mask(value: str) -> str:
    """Keep just enough to recognise a value (two characters each end), hide the rest."""
    if _reveal:
        return value
    if len(value) <= 8:
        return MASK * len(value)
    return f"{value[:2]}{MASK * (len(value) - 4)}{value[-2:]}"
