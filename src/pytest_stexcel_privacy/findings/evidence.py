"""One observed fact behind a failure, structured so reports and baselines can use it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

MAIL = "mail"  # the store of evidence about a message
NETWORK = "network"  # the store of evidence about a connection, its host the location
PROVIDERS = "providers"  # the store of evidence about a request a provider received
# Where a place's digits are a date, a year or an id; a single digit more often names
# another thing (address_line1, address_line2).
_NUMBER = re.compile(r"[0-9]{2,}")


@dataclass(frozen=True)
class Evidence:
    """One observed fact behind a failure: usually a value found where it must not be.

    ``text`` is the rendered line (always masked unless unmasking was asked
    for); the other fields are set when the fact is a scanner hit or a
    message, and are what a baseline compares and an acceptance matches
    (:attr:`key`), so row ids or message numbers that change between runs
    do not turn an old finding into a new one.

    A message (``store == "mail"``) is known by the rule it broke
    (``location``, e.g. ``marketing-after-opt-out``), the role of the person
    it reached (``locator``, e.g. ``opted out``) and the step of the
    sequence it arrived in (``step``, e.g. ``send_marketing()``).
    ``clause`` is set on accepted evidence only: the clause it was accepted
    under, which is how a run tells the acceptances it used from those that
    matched nothing.
    """

    text: str
    store: str = ""
    location: str = ""
    locator: str = ""
    field: str = ""
    form: str = ""
    value: str = ""
    step: str = ""
    clause: str = ""

    @property
    def key(self) -> str:
        """Stable identity across runs: where and what, not which row or which message."""
        if self.store == MAIL and self.location:
            return f"{MAIL} {self.location}: {self.locator} during {self.step}"
        if self.location:
            return self._key_at(self.location)
        return self.text

    def _key_at(self, location: str) -> str:
        """:attr:`key` of a store's value at ``location``."""
        return f"{self.store} {location}: {self.field} as {self.form}"

    @property
    def place_key(self) -> str:
        """:attr:`key` with every number (two digits or more) in a store's location read
        alike: a dated export, a per-customer cache key or a yearly partition is one place.
        A host, a provider's path and a mail rule are kept as they are: another address
        is another destination.

        Within a run, what tells whether a finding was already shown (a search
        after a failing fixed sequence, on another day of the module's clock, is
        not a new finding). Baselines and acceptances keep the exact :attr:`key`.
        """
        if not self.location or self.store in (MAIL, NETWORK, PROVIDERS):
            return self.key
        # without building another Evidence: a failing lifecycle asks this of every hit
        return self._key_at(_NUMBER.sub("#", self.location))

    def redacted(self, redact: Callable[[str], str]) -> Evidence:
        """The same fact with ``redact`` applied to every part that can hold a value."""
        return replace(
            self,
            text=redact(self.text),
            location=redact(self.location),
            locator=redact(self.locator),
            value=redact(self.value),
        )

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(**{k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__})
