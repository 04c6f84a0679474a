"""Forging unsubscribe links as an attacker would, from the links people really received.

An attacker holds their own unsubscribe link (or two, from two accounts) and
edits it: names someone else in it, changes any number in it by one, drops or
blanks its signature, swaps a part of one link into another, or alters its
token. A module must refuse such a link or let it unsubscribe only the person
it was sent to. Each function here is pure: it takes links and returns the
forged candidates, each saying how it was made (without personal values) and
whether it carries a signature taken from the second person's link (then
unsubscribing that person is no forgery: the attacker held their link too).
The opt-out machine (``email_opt_out.py``) picks one candidate per rule call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

RETARGET = "retarget"
TAMPER = "tamper"
INCREMENT = "increment"
DECREMENT = "decrement"
DROP_SIGNATURE = "drop-signature"
BLANK_SIGNATURE = "blank-signature"
SWAP = "swap"
REPLAY = "replay"  # the owner's own link again, after they subscribed again
FORGERIES = (RETARGET, TAMPER, INCREMENT, DECREMENT, DROP_SIGNATURE, BLANK_SIGNATURE, SWAP, REPLAY)

# The evidence rule of a forged link that unsubscribed someone it was not sent to.
FORGED_LINK_UNSUBSCRIBED = "forged-link-unsubscribed-another"

# Query parameters named like a signature, whatever their value.
SIGNATURE_NAMES = frozenset({"sig", "signature", "token", "hmac", "h", "s"})
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Forgery:
    how: str  # "p2's link with its 1st number plus 1": labels, never values
    link: str
    signed_by_other: bool = False  # carries a signature from the second person's link


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def looks_like_token(value: str) -> bool:
    """A long hex or base64-ish value (digits and letters of both cases, not a slug):
    a signature, an HMAC, a token."""
    if re.fullmatch(r"[0-9A-Fa-f]{16,}", value):
        return True
    return (
        len(value) >= 16
        and re.fullmatch(r"[A-Za-z0-9+/_\-.%]+=*", value) is not None
        and all(re.search(kind, value) for kind in (r"\d", r"[a-z]", r"[A-Z]"))
    )


def _params(query: str) -> list[tuple[str, str]]:
    """The raw ``name=value`` pairs of a query, in order, undecoded."""
    return [(p.partition("=")[0], p.partition("=")[2]) for p in query.split("&") if p]


def _query(params: list[tuple[str, str]]) -> str:
    return "&".join(f"{name}={value}" for name, value in params)


def is_signature(name: str, value: str) -> bool:
    return name.lower() in SIGNATURE_NAMES or looks_like_token(value)


def signature_edits(link: str, label: str, *, blank: bool) -> list[Forgery]:
    """The link with one signature-like query parameter dropped (or left empty)."""
    parts = urlsplit(link)
    params = _params(parts.query)
    forged = []
    for index, (name, value) in enumerate(params):
        if not is_signature(name, value):
            continue
        rest = params[:index] + ([(name, "")] if blank else []) + params[index + 1 :]
        how = f"{label}'s link with its {name!r} parameter {'blanked' if blank else 'dropped'}"
        forged.append(Forgery(how, urlunsplit(parts._replace(query=_query(rest)))))
    return forged


def numeric_edits(link: str, label: str, step: int) -> list[Forgery]:
    """The link with each run of digits after its host changed by ``step``, one at a time."""
    parts = urlsplit(link)
    start = len(f"{parts.scheme}://{parts.netloc}") if parts.netloc else len(parts.scheme) + 1
    runs = [m for m in _NUMBER.finditer(link) if m.start() >= start]
    forged = []
    for number, match in enumerate(runs, 1):
        value = int(match.group()) + step
        if value < 0:
            continue
        edited = str(value).zfill(len(match.group()))
        how = f"{label}'s link with its {ordinal(number)} number {step:+d}"
        forged.append(Forgery(how, link[: match.start()] + edited + link[match.end() :]))
    return forged


def swaps(link: str, other: str, label: str, other_label: str) -> list[Forgery]:
    """``link`` with its whole path, its whole query, one path segment or one query
    parameter taken from ``other``; a result equal to either real link is no forgery."""
    mine, theirs = urlsplit(link), urlsplit(other)
    candidates: list[tuple[str, str, bool]] = []
    if mine.path != theirs.path:
        signed = any(looks_like_token(s) for s in theirs.path.split("/"))
        candidates.append(("path", urlunsplit(mine._replace(path=theirs.path)), signed))
    if mine.query != theirs.query:
        signed = any(is_signature(n, v) for n, v in _params(theirs.query))
        candidates.append(("query", urlunsplit(mine._replace(query=theirs.query)), signed))
    segments, other_segments = mine.path.split("/"), theirs.path.split("/")
    if len(segments) == len(other_segments):
        for index, (own, their) in enumerate(zip(segments, other_segments, strict=True)):
            if own != their:
                path = "/".join([*segments[:index], their, *segments[index + 1 :]])
                what = f"{ordinal(index)} path segment"
                candidates.append(
                    (what, urlunsplit(mine._replace(path=path)), looks_like_token(their))
                )
    their_params = dict(_params(theirs.query))
    params = _params(mine.query)
    for index, (name, value) in enumerate(params):
        swapped = their_params.get(name)
        if swapped is not None and swapped != value:
            query = _query([*params[:index], (name, swapped), *params[index + 1 :]])
            what = f"{name!r} parameter"
            candidates.append(
                (what, urlunsplit(mine._replace(query=query)), is_signature(name, swapped))
            )
    forged: dict[str, Forgery] = {}
    for what, result, signed in candidates:
        if result not in (link, other) and result not in forged:
            forged[result] = Forgery(f"{label}'s link with {other_label}'s {what}", result, signed)
    return list(forged.values())


def retarget(
    link: str, address: str, other_address: str, account: str, other_account: str
) -> str | None:
    """The link with the owner's e-mail address or account id replaced by another's."""
    swapped = [(address, other_address), (quote(address), quote(other_address))]
    swapped.append((quote(address, safe=""), quote(other_address, safe="")))
    for old, new in swapped:
        if old and old in link:
            return link.replace(old, new)
    pattern = rf"(?<![0-9A-Za-z]){re.escape(account)}(?![0-9A-Za-z])"
    if account != other_account and re.search(pattern, link):
        return re.sub(pattern, other_account, link)
    return None


def tamper(link: str) -> str:
    """Change the last letter or digit of the link's longest query value (its token)."""
    values = re.findall(r"[=/]([A-Za-z0-9_\-]{8,})", link)
    token = max(values, key=len) if values else link[-1]
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    head, _, tail = link.rpartition(token)
    return head + flipped + tail
