"""Masking of personal values before they reach any output."""

from __future__ import annotations

MASK = "*"


def mask(value: str) -> str:
    """Keep just enough to recognise a value (two characters each end), hide the rest."""
    if len(value) <= 8:
        return MASK * len(value)
    return f"{value[:2]}{MASK * (len(value) - 4)}{value[-2:]}"
