"""Where a block of rows holds a cell that may be an encoded value, found in C.

A cell may be encoded (base64, a signed session) when it starts with 16 characters
of those alphabets, a dot only first (as ``decoders._GATE`` reads them), and is not a
hex string (no built-in encoding): its row is then read back for the value decoders
to open. The test runs over whole blocks, so its cost per row does not depend on what
the rows hold.

Hyperscan, where it is installed, runs it as regular expressions over the block as
it is (``hyperscan_search.py``); elsewhere the block is translated to byte classes and
the class strings the test accepts are searched by a DFA. Over hex strings the first
took 4.8 ms a MB against 8.5, over customers' names and e-mail addresses 1.3 against
3.8 (of which ``bytes.translate`` 1.6 ms a MB, with the GIL held). Both find the same
cells (tests/test_encoded_cells.py).
"""

from __future__ import annotations

import functools
import itertools

import ahocorasick_rs

from . import hyperscan_search

# Each byte as its class, for the encoded-cell test: a hex digit, another character of
# base64 or of a signed value, a dot (which only a signed value has, and only first), a
# separator (``|``, set per line format), anything else.
_HEX = b"0123456789abcdefABCDEF"
_ENCODED_ONLY = b"ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ+/_=:-"
_DOT = b"."


def _classes(separators: bytes) -> bytes:
    def class_of(byte: int) -> int:
        if byte in separators:
            return ord("|")
        if byte in _HEX:
            return ord("h")
        return ord("B") if byte in _ENCODED_ONLY else ord("D") if byte in _DOT else ord(" ")

    return bytes(class_of(byte) for byte in range(256))


def _encoded_cell_starts() -> list[bytes]:
    """A cell (after a separator) starting with 16 characters of those classes, a dot only
    first (as decoders._GATE reads them), not all hex: a non-hex one within the first 65,
    or 64 hex digits and more (the base64 and signed-value sniffs read 64), as class
    strings. A dot elsewhere in the 16 is in neither encoding: an e-mail address such as
    ``firstname.lastname@`` is no encoded value. Searched by a DFA (no regex: Python's
    holds the GIL and pays per cell)."""
    # 64 hex digits and anything more: base64's sniff reads those 64, and the rest makes
    # the value no hex string
    starts = [b"|" + b"h" * 64 + kind for kind in (b"h", b"D", b" ")]
    for hex_digits in range(65):
        rest = max(0, 15 - hex_digits)  # characters still needed to make 16
        for tail in itertools.product(b"hB", repeat=rest):
            starts.append(b"|" + b"h" * hex_digits + b"B" + bytes(tail))
    # a signed value's leading dot: the rest of it may be hex digits only
    starts.extend(b"|D" + bytes(tail) for tail in itertools.product(b"hB", repeat=15))
    return starts


@functools.cache
def _class_automaton() -> ahocorasick_rs.BytesAhoCorasick:
    """Built once per process (98,355 class strings, a fraction of a second)."""
    implementation = ahocorasick_rs.Implementation.DFA
    return ahocorasick_rs.BytesAhoCorasick(_encoded_cell_starts(), implementation=implementation)


def hyperscan_patterns(separators: bytes) -> list[tuple[bytes, int]]:
    """The class strings of ``_encoded_cell_starts`` as regular expressions over the bytes
    themselves, each with the length of what it matches (every one matches a fixed length,
    so a match's start is its end less that)."""

    def one_of(characters: bytes) -> bytes:
        return b"[" + hyperscan_search.escaped(characters) + b"]"

    def repeated(pattern: bytes, times: int) -> bytes:
        return pattern + b"{%d}" % times if times else b""

    separator, hex_digit = one_of(separators), one_of(_HEX)
    encoded_only, either = one_of(_ENCODED_ONLY), one_of(_HEX + _ENCODED_ONLY)
    # 64 hex digits, then a hex digit, a dot or any other byte: neither base64 nor a separator
    neither = b"[^" + hyperscan_search.escaped(_ENCODED_ONLY + separators) + b"]"
    patterns = [(separator + repeated(hex_digit, 64) + neither, 66)]
    for hex_digits in range(65):
        rest = max(0, 15 - hex_digits)
        pattern = (
            separator + repeated(hex_digit, hex_digits) + encoded_only + repeated(either, rest)
        )
        patterns.append((pattern, 2 + hex_digits + rest))
    patterns.append((separator + one_of(_DOT) + repeated(either, 15), 17))
    return patterns


class EncodedCells:
    """The cells of a block that may be encoded, for one line format (its separators)."""

    def __init__(self, separators: bytes, use_hyperscan: bool = True) -> None:
        """``use_hyperscan=False``: the DFA of classes, as where Hyperscan is missing."""
        self._classes = _classes(separators)
        self._compiled = _compiled(separators) if use_hyperscan else None

    def starts(self, block: bytes) -> set[int]:
        """Where each cell that may be encoded starts in ``block``."""
        # the separator before the cell may be the previous line's end: start after it
        if self._compiled is None or not hyperscan_search.searchable(block):
            cells = _class_automaton().find_matches_as_indexes(block.translate(self._classes))
            return {start + 1 for _, start, _ in cells}
        compiled, lengths = self._compiled
        return {end - lengths[pattern] + 1 for pattern, end in compiled.ends(block)}


@functools.cache
def _compiled(separators: bytes) -> tuple[hyperscan_search.Compiled, list[int]] | None:
    """``hyperscan_patterns`` compiled by Hyperscan, once per process and line format
    (70 ms); None where it cannot."""
    if not hyperscan_search.available():
        return None
    patterns = hyperscan_patterns(separators)
    try:
        compiled = hyperscan_search.Compiled([p for p, _ in patterns], literal=False)
    except hyperscan_search.Error:
        return None
    return compiled, [length for _, length in patterns]
