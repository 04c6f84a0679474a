"""Needles: every form in which a person's value could survive in a store.

A scanner never searches for "the e-mail"; it searches for each needle
derived here (exact, case- and space-folded, phone and card digit forms,
e-mail hashes, URL/JSON/base64 encodings, and the bare canary token; an
identifier of the adapter's ``extra_fields`` also without its separators,
"compact"). The
matcher compares ASCII-case-insensitively, so case variants of ASCII text
need no needles of their own.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# Needles shorter than this could occur by chance; no person field yields one.
MIN_NEEDLE_BYTES = 6

# Most specific first: when several needles of one field hit the same place,
# the report names the earliest form in this order.
FORMS: tuple[str, ...] = (
    "exact",
    "casefold",
    "whitespace-folded",
    "compact",
    "e164",  # "+12675550185" holds the digits too: E.164 is the more specific name
    "digits",
    "grouped",
    "md5",
    "sha1",
    "sha256",
    "url",
    "json",
    "base64",
    "canary",
)
FORM_RANK = {form: rank for rank, form in enumerate(FORMS)}


@dataclass(frozen=True)
class Needle:
    """One searchable form of one field of one person."""

    person: str  # the person's canary: identifies whose data it is
    field: str
    form: str
    text: str

    @functools.cached_property
    def key(self) -> bytes:
        """What the matcher searches for: UTF-8, ASCII letters lower-cased (asked for
        every needle of every scan, so worked out once)."""
        return self.text.encode("utf-8").lower()


def base64_fragments(raw: bytes) -> Iterator[str]:
    """The base64 text of ``raw`` at each of the three byte alignments.

    Inside a larger encoded blob a value starts at an arbitrary offset, so
    its encoding depends on the offset modulo 3; only the characters fully
    determined by the value itself are kept.
    """
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii").rstrip("=")
        start = -(-8 * offset // 6)  # ceil: characters touched by the padding
        stop = 8 * (offset + len(raw)) // 6  # floor: characters complete in the value
        yield encoded[start:stop]
        yield encoded[start:stop].replace("+", "-").replace("/", "_")  # URL-safe alphabet


def text_forms(value: str) -> Iterator[tuple[str, str]]:
    """Forms shared by every text field."""
    yield "exact", value
    yield "casefold", value.casefold()
    folded = " ".join(value.split())
    yield "whitespace-folded", folded
    yield "whitespace-folded", "".join(value.split())
    yield "url", urllib.parse.quote(value, safe="")
    yield "url", urllib.parse.quote_plus(value)
    yield "json", json.dumps(value)[1:-1]
    yield "json", json.dumps(value, ensure_ascii=False)[1:-1]
    for fragment in base64_fragments(value.encode("utf-8")):
        yield "base64", fragment


def email_forms(email: str) -> Iterator[tuple[str, str]]:
    yield from text_forms(email)
    normalised = email.strip().lower()
    for algorithm in ("md5", "sha1", "sha256"):
        yield algorithm, hashlib.new(algorithm, normalised.encode("utf-8")).hexdigest()


def phone_forms(phone: str) -> Iterator[tuple[str, str]]:
    yield "exact", phone
    digits = re.sub(r"\D", "", phone)
    national = digits[-10:]
    yield "digits", national
    yield "e164", f"+1{national}"
    area, exchange, line = national[:3], national[3:6], national[6:]
    for grouped in (
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"{area} {exchange} {line}",
        f"({area}) {exchange}-{line}",
        f"({area}){exchange}-{line}",
    ):
        yield "grouped", grouped


def card_forms(number: str) -> Iterator[tuple[str, str]]:
    digits = re.sub(r"\D", "", number)
    yield "digits", digits
    groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    yield "grouped", " ".join(groups)
    yield "grouped", "-".join(groups)


def extra_forms(value: str) -> Iterator[tuple[str, str]]:
    """An identifier the policy does not name (tax ID, IBAN ...): as written, without its
    separators ("compact", as systems index it), in upper and lower case (one needle each,
    as the matcher ignores ASCII case), and every text encoding."""
    compact = re.sub(r"[\s\-./_:]", "", value)
    yield "exact", value
    yield "exact", value.upper()
    yield "exact", value.lower()
    yield "compact", compact
    yield "compact", compact.upper()
    yield "compact", compact.lower()
    yield from text_forms(value)
    yield from text_forms(compact)


def derive(
    person: str,
    field: str,
    value: str,
    canary: str | None,
    forms: Iterable[tuple[str, str]] | None = None,
) -> list[Needle]:
    """All needles of one field (``forms``, else the field's own), deduplicated by what
    the matcher would search."""
    if forms is not None:
        pass
    elif field == "email":
        forms = email_forms(value)
    elif field == "phone":
        forms = phone_forms(value)
    elif field == "card_number":
        forms = card_forms(value)
    else:
        forms = text_forms(value)
    needles: dict[bytes, Needle] = {}
    candidates = list(forms)
    if canary:
        candidates.append(("canary", canary))
    for form, text in candidates:
        needle = Needle(person, field, form, text)
        if len(needle.key) >= MIN_NEEDLE_BYTES and needle.key not in needles:
            needles[needle.key] = needle
    return list(needles.values())
