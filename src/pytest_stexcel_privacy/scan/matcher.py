"""Multi-pattern search of bytes for every needle at once (Aho-Corasick).

The automaton works on ``str``; bytes are mapped one-to-one onto code points
with latin-1, so any byte sequence (invalid UTF-8, NUL bytes, binary blobs)
can be searched without decoding errors. ASCII letters are lower-cased on
both sides, which makes the search ASCII-case-insensitive.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

import ahocorasick

from ..needles import FORM_RANK, Needle


class NeedleMatcher:
    def __init__(self, needles: Iterable[Needle]) -> None:
        grouped: dict[bytes, list[Needle]] = defaultdict(list)
        for needle in needles:
            grouped[needle.key].append(needle)
        self.needles: tuple[Needle, ...] = tuple(n for group in grouped.values() for n in group)
        self.longest = max((len(key) for key in grouped), default=0)
        self._automaton = ahocorasick.Automaton()
        for key, group in grouped.items():
            self._automaton.add_word(key.decode("latin-1"), (len(key), tuple(group)))
        if grouped:
            self._automaton.make_automaton()

    def __bool__(self) -> bool:
        return bool(self.needles)

    def search(self, data: bytes) -> Iterator[tuple[int, tuple[Needle, ...]]]:
        """Yield ``(start offset, needles)`` for every match in ``data``."""
        if not self.needles:
            return
        text = data.lower().decode("latin-1")
        for end, (length, group) in self._automaton.iter(text):
            yield end - length + 1, group

    def strongest(self, data: bytes) -> Needle | None:
        """The most specific needle found in ``data`` (exact before encodings and canaries)."""
        found = [needle for _, group in self.search(data) for needle in group]
        return min(found, key=lambda n: FORM_RANK[n.form]) if found else None

    def matches(self, data: bytes) -> bool:
        return next(self.search(data), None) is not None
