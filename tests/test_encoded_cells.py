"""The encoded-cell test finds the same cells whichever way it runs: Hyperscan's
expressions over the bytes, or the DFA over their classes (the reference)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from availability import require
from pytest_stexcel_privacy.scan import hyperscan_search
from pytest_stexcel_privacy.scan.copy_stream import COPY_TEXT, JOINED, LineFormat
from pytest_stexcel_privacy.scan.encoded_cells import EncodedCells

# Bytes of every class: hex digits, base64's other characters, a dot, anything else,
# and both formats' separators. Blocks are runs of them, long enough to reach the
# test's 16 and 64.
BYTES = b"0aF9" + b"gZ+=_/:-" + b"." + b" @\x00\xe9" + b"\t\n" + b"\x1f\x1e"
# Built (and their automata compiled) once, outside the examples' deadline.
FINDERS = {
    line_format: (
        EncodedCells(line_format.cell + line_format.line, use_hyperscan=False),
        EncodedCells(line_format.cell + line_format.line),
    )
    for line_format in (COPY_TEXT, JOINED)
}
for finders in FINDERS.values():
    for finder in finders:
        finder.starts(b"\t")
blocks = st.lists(st.tuples(st.sampled_from(BYTES), st.integers(1, 70)), max_size=12).map(
    lambda runs: b"".join(bytes([byte]) * n for byte, n in runs)
)


@pytest.mark.parametrize("line_format", [COPY_TEXT, JOINED], ids=["copy", "joined"])
@given(blocks)
# at the bounds: 64 hex digits then a dot, a separator, a letter; 15 and 14 hex digits
# before a letter; a dot before 15 and 14 more
@example(b"\ta" + b"0" * 63 + b".")
@example(b"\ta" + b"0" * 63 + b"\tx")
@example(b"\n" + b"0" * 64 + b"g\n")
@example(b"\t" + b"0" * 15 + b"g")
@example(b"\t" + b"0" * 14 + b"g\t")
@example(b"\x1e.0123456789abcdeg")
@example(b"\x1f.0123456789abcde")
@example(b"\x1f.0123456789abcd\x1f")
def test_hyperscan_finds_the_cells_the_classes_find(line_format: LineFormat, block: bytes) -> None:
    require(hyperscan_search.available(), "Hyperscan", "pip install -e '.[fast]'")
    by_classes, by_hyperscan = FINDERS[line_format]
    assert by_hyperscan.starts(block) == by_classes.starts(block)


def test_the_cells_found_are_those_the_test_describes() -> None:
    """The reference itself, on cells written out (copy format)."""
    cells = EncodedCells(b"\t\n", use_hyperscan=False)
    block = b"\t".join(
        [
            b"#1",
            b"0123456789abcdef" * 4,  # 1: 64 hex digits, then the cell ends: a hex string
            b"0123456789abcdef" * 4 + b"0",  # 2: 65 hex digits: no hex string base64 reads
            b"0123456789abcdeg",  # 3: a letter within the first 16
            b"0123456789abcde",  # 4: too short
            b"firstname.lastname@example.com",  # 5: a dot inside: no encoding
            b".eyJhbGciOiJIUzI1",  # 6: a signed value's leading dot
        ]
    )
    starts = [at + 1 for at, byte in enumerate(block) if byte == ord("\t")]
    cell_at = {start: number for number, start in enumerate(starts, start=1)}
    for found in (cells.starts(block), EncodedCells(b"\t\n").starts(block)):
        assert sorted(cell_at[start] for start in found) == [2, 3, 6]
