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

Masking at the source cannot reach text the suite does not write: the
module's own log lines and exception messages, pytest's tracebacks, the
examples hypothesis prints. :func:`redact` is the net under every output: it
masks, in any text, each word carrying a canary this process minted and each
phone and card number it minted, in any punctuation. The plugin passes every
test report and every finding through it before pytest, xdist or the report
writers see them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from ..people.persons import CANARY_LENGTH, mint

MASK = "*"
# A canary sits inside a word of a name, an e-mail, a street, a URL: the word is masked.
_WORD = re.compile(r"[\w.@%+\-]+")
# The mint's phone numbers, "(212) 555-0123", as digits-only, E.164 or otherwise punctuated.
_PHONE = re.compile(r"(?<!\d)(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?555[\s.-]?01\d\d(?!\d)")
# Card numbers: sixteen digits, plain or grouped by spaces or dashes.
_CARD = re.compile(r"(?<!\d)\d{4}(?:[ -]?\d{4}){3}(?!\d)")


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

    def redact(self, text: str) -> str:
        """``text`` with every synthetic value minted in this process masked."""
        if self.unmask or not text:
            return text
        known = _minted()
        if not known.canaries and not known.numbers:
            return text

        def word(match: re.Match[str]) -> str:
            found = match.group()
            return self.mask(found) if known.has_canary(found) else found

        def number(match: re.Match[str]) -> str:
            found = match.group()
            digits = re.sub(r"\D", "", found)
            minted = digits in known.numbers or digits[-10:] in known.numbers  # +1 prefixed
            return self.mask(found) if minted else found

        return _CARD.sub(number, _PHONE.sub(number, _WORD.sub(word, text)))


class _Minted:
    """What :func:`redact` looks for: the canaries, and the phone and card digits.

    Kept up with the mint a value at a time: deriving both sets again from every value
    handed out, whenever one more was, made redaction cost more with each check run in
    the process (about 15 s of the test suite's CPU, in py-spy's samples)."""

    def __init__(self) -> None:
        self.canaries: set[str] = set()
        self.numbers: set[str] = set()
        self._read = 0  # how many of the mint's values are in the sets
        self._lock = threading.Lock()

    def catch_up(self) -> _Minted:
        with self._lock:
            fresh = mint.issued_after(self._read)
            self._read += len(fresh)
            for value in fresh:
                if value.isalpha():
                    self.canaries.add(value)
                else:
                    self.numbers.add(re.sub(r"\D", "", value))
        return self

    def has_canary(self, word: str) -> bool:
        folded = word.lower()
        windows = range(len(folded) - CANARY_LENGTH + 1)
        return any(folded[i : i + CANARY_LENGTH] in self.canaries for i in windows)


_known = _Minted()


def _minted() -> _Minted:
    return _known.catch_up()


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


def redact(text: str) -> str:
    """``text`` with the synthetic values in it masked, as the masking in force asks."""
    return _in_force.get().redact(text)
