"""A cheap server-side sieve that every row holding a needle is sure to pass.

A database's own regex engine slows down sharply as literal alternatives
are added (PostgreSQL: 200 needles cost a hundred times a single pass), so
the servers are not asked to find the needles themselves. They are asked a
much cheaper question, whose answer is *yes* for every row that could hold
any needle: does the row contain seven canary consonants in a row, the
digits that start every minted phone or card number (or, for numbers minted
elsewhere, any phone- or card-shaped group), or a long run of letters and
digits (hashes, base64)? Ordinary data rarely does, so few rows come back, and
Python searches those for the needles exactly (Aho-Corasick), which also
names the column and the form. The sieve's cost hardly depends on the number
of persons.

Soundness is checked, not assumed: every needle is tested against the
sieve it was assigned before the sieve is used, and a needle that fits no
class is kept as a literal alternative of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..people.needles import MIN_NEEDLE_BYTES, Needle
from ..people.persons import CANARY_LENGTH, CONSONANTS

CANARY_WINDOW = f"[{CONSONANTS}]{{{CANARY_LENGTH}}}"
# Every form of a minted phone (fictional 555-01xx) and of a minted card
# (test range 400000) contains one of these; ordinary digits rarely do, so
# few rows pass and the regex engine rests in its start state.
MINTED_NUMBER_WINDOWS = (r"555[-. ]?01", r"4000[- ]?00")
# Any other phone form (grouped or not, with or without +1) and card form
# (digits only, or grouped in fours by spaces or dashes) contains this.
DIGIT_WINDOW = r"[0-9]{3,4}[-. )]{0,2}[0-9]{3,4}[-. ]?[0-9]{4}"
QUOTED = re.compile(r'["\\\x00-\x1f]')
ALNUM_RUN = re.compile(r"[a-z0-9]+")
# The longest letters-and-digits run a needle must have to be sieved by one:
# e-mail hashes and base64 fragments. Longer windows sieve better but fewer
# needles qualify; shorter ones admit ordinary words.
ALNUM_WINDOW_MIN, ALNUM_WINDOW_MAX = 12, 16
ALNUM_CLASS = "[a-z0-9]"
# A value in an encoding (base64, a signed session) that may hold a needle only once
# decoded: rows with one pass too, so Python can decode them (scan/decoders.py). Binary
# columns show as hex, which the letters-and-digits window already lets through.
ENCODED_WINDOW = "[a-z0-9+/_-]{20}"


def sieve_parts(needles: Iterable[Needle], with_hex: bool = False) -> list[str]:
    """The alternatives of the sieve: class windows, and literals for needles fitting none.

    ``with_hex``: the rows have binary columns, which show as hex, so any
    needle may appear as a hex run of at least ``2 * MIN_NEEDLE_BYTES``.
    """
    parts: dict[str, None] = {}
    alnum_window = ALNUM_WINDOW_MAX + 1
    for needle in needles:
        key = needle.key.decode("utf-8", "surrogateescape")
        run = max((len(m.group()) for m in ALNUM_RUN.finditer(key)), default=0)
        minted = next((w for w in MINTED_NUMBER_WINDOWS if re.search(w, key)), None)
        if re.search(CANARY_WINDOW, key):
            parts[CANARY_WINDOW] = None
        elif minted:
            parts[minted] = None
        elif run >= ALNUM_WINDOW_MIN:
            alnum_window = min(alnum_window, run, ALNUM_WINDOW_MAX)
        elif re.search(DIGIT_WINDOW, key):
            parts[DIGIT_WINDOW] = None
        else:
            parts[re.escape(literal_piece(key))] = None
    if with_hex:
        alnum_window = min(alnum_window, 2 * MIN_NEEDLE_BYTES)
    if alnum_window <= ALNUM_WINDOW_MAX:
        parts[f"{ALNUM_CLASS}{{{alnum_window}}}"] = None
    return list(parts)


def literal_piece(key: str) -> str:
    """The longest piece of ``key`` that a row's text shows unchanged.

    PostgreSQL's row text doubles quotes and backslashes, and JSON escapes
    them and control characters; a piece without them is still sound.
    """
    return max(QUOTED.split(key), key=len)


def sieve_pattern(needles: Iterable[Needle], with_hex: bool = False) -> str:
    """One case-insensitive regex that every needle's key matches (checked)."""
    return "|".join(sieve_patterns(needles, with_hex))


def sieve_patterns(
    needles: Iterable[Needle], with_hex: bool = False, encoded: bool = False
) -> list[str]:
    """The sieve as separate regexes, any of which a needle's key matches (checked).

    PostgreSQL runs a union of class windows far slower than the windows one
    after another, so the letters-and-digits window, the costliest, is kept
    apart from the rest. ``encoded``: let encoded values through too (``ENCODED_WINDOW``).
    """
    needles = list(needles)
    parts = sieve_parts(needles, with_hex)
    alnum = [p for p in parts if p.startswith(ALNUM_CLASS)]
    if encoded:
        alnum.append(ENCODED_WINDOW)
    rest = [p for p in parts if not p.startswith(ALNUM_CLASS)]
    patterns = ["|".join(group) for group in (rest, alnum) if group]
    compiled = re.compile("|".join(patterns), re.IGNORECASE)
    for needle in needles:
        if not compiled.search(needle.key.decode("utf-8", "surrogateescape")):
            missed = f"the {needle.form} form of {needle.field}"
            raise AssertionError(f"sieve {patterns!r} misses {missed}")
    return patterns
