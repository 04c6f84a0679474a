"""Names from the module's stores, made safe to show: every control character visible.

A store, table, column, file or key name may carry ANSI escape sequences or
bidirectional-text controls that would recolour a terminal or reorder what a
reviewer reads. Every renderer (terminal, Markdown, HTML) shows text through
:func:`visible`, which writes such characters as escapes (``\\x1b``,
``\\u202e``). The JSON report keeps the raw text: it is data.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL, and the bidirectional controls and marks.
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_HIDDEN_KEEPING_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, *, keep_lines: bool = False) -> str:
    """``text`` with every control character written as an escape (newlines and tabs
    kept when ``keep_lines``)."""
    return (_HIDDEN_KEEPING_LINES if keep_lines else _HIDDEN).sub(_escape, text)


def json_visible(json_text: str) -> str:
    """JSON text with every control character a ``\\uXXXX`` escape: same data, none hidden."""
    return _HIDDEN.sub(lambda match: f"\\u{ord(match.group()):04x}", json_text)
