"""How a user describes an encoding their module stores values in (``ValueDecoder``).

A store's ``decoders=`` and the ``pytest_stexcel_privacy.decoders`` entry
point group take these; ``scan/decoders.py`` holds the built-in ones and
applies them all before matching. Declaring one imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


class NotThisFormat(ValueError):
    """What a decoder raises when a value its sniff accepted turns out not to be its format."""


@dataclass(frozen=True)
class ValueDecoder:
    """An encoding a stored value can be in: how to spot it cheaply, and what is inside.

    ``sniff`` gets the value's bytes and must answer quickly (look at the first
    bytes): it runs on every value of every store. ``decode`` returns the bytes
    inside (one ``bytes``, or several, e.g. each string of a structure); it
    raises one of ``errors`` (default ``ValueError``, which ``NotThisFormat``
    is) when the value is not its format after all. What it returns is searched
    and decoded in turn; evidence names the path (``in signed session``).
    """

    name: str
    sniff: Callable[[bytes], bool]
    decode: Callable[[bytes], bytes | Iterable[bytes]]
    errors: tuple[type[BaseException], ...] = (ValueError,)
