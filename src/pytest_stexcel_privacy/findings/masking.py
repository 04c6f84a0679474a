"""Masking of personal values before they reach any output.

Every value is masked unless the run asked to see synthetic values
(``--privacy-unmask``, for debugging a module locally). Only the suite's own
synthetic persons' values ever reach evidence, so unmasking reveals nothing
real.

Evidence is written deep in the scanners and observers, far from pytest's
config, so :func:`mask` does not take the run's choice as an argument: it
reads the :class:`Masking` in force in the current context. The plugin makes
the run's one ``Masking`` (kept in ``config.stash``) the one in force around
each test with :func:`masking`: a ``ContextVar`` set and reset, so the
choice of a pytest run nested in a test ends with that run. Where nothing
was put in force, values are masked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

MASK = "*"


@dataclass(frozen=True)
class Masking:
    """How a run shows personal values: masked (the default) or, on request, as they are."""

    unmask: bool = False

    def mask(self, value: str) -> str:
        """Keep just enough to recognise a value (two characters each end), hide the rest."""
        if self.unmask:
            return value
        if len(value) <= 8:
            return MASK * len(value)
        return f"{value[:2]}{MASK * (len(value) - 4)}{value[-2:]}"


MASKED = Masking()
_in_force: ContextVar[Masking] = ContextVar("stexcel_privacy_masking", default=MASKED)


@contextmanager
def masking(policy: Masking) -> Iterator[Masking]:
    """Put ``policy`` in force for :func:`mask` until the block ends."""
    token = _in_force.set(policy)
    try:
        yield policy
    finally:
        _in_force.reset(token)


def mask(value: str) -> str:
    """``value`` as the masking in force shows it."""
    return _in_force.get().mask(value)
