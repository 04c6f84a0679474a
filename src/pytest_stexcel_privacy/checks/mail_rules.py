"""Which messages are marketing: the rule the ``email-opt-out`` checks judge by.

The default rule, in order:

1. the adapter's ``classify_mail(message)``, when it has one and it answers;
2. the category header the adapter names (``mail_category_header``, by
   default ``X-Mail-Category``): ``marketing``, ``newsletter``, ``promotion``
   ... are marketing; ``transactional``, ``notice``, ``order``, ``receipt``,
   ``security``, ``policy``, ``service`` are not;
3. a ``List-Unsubscribe`` header, or ``Precedence: bulk``, marks marketing.

A message none of these places is *unclassified*: the check reports it and
cannot pass, because treating it as non-marketing would excuse exactly the
mail an opt-out is meant to stop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..contract.profile import AdapterProfile
from ..errors import CheckInconclusive
from ..observe.mail_sink import MailMessage

if TYPE_CHECKING:
    from ..contract.checked import CheckedAdapter

MARKETING = "marketing"
TRANSACTIONAL = "transactional"
MARKETING_VALUES = frozenset(
    {"marketing", "newsletter", "promotion", "promotional", "campaign", "advertising", "bulk"}
)
TRANSACTIONAL_VALUES = frozenset(
    {
        "transactional",
        "notice",
        "notification",
        "order",
        "receipt",
        "security",
        "policy",
        "service",
        "account",
    }
)
ONE_CLICK = "list-unsubscribe=one-click"


def classify(
    message: MailMessage,
    category_header: str = AdapterProfile.mail_category_header,
    override: Callable[[MailMessage], str | None] | None = None,
) -> str | None:
    """``"marketing"``, ``"transactional"``, or None when the message cannot be placed."""
    if override is not None:
        answer = override(message)
        if answer in (MARKETING, TRANSACTIONAL):
            return answer
    category = message.header(category_header).strip().lower()
    if category in MARKETING_VALUES:
        return MARKETING
    if category in TRANSACTIONAL_VALUES:
        return TRANSACTIONAL
    if message.header("list-unsubscribe") or message.header("precedence").lower() == "bulk":
        return MARKETING
    return None


class AdapterMailRule:
    """The rule as one adapter configures it, for every check that judges its mail."""

    def __init__(self, adapter: CheckedAdapter) -> None:
        self.adapter = adapter
        self.category_header = adapter.profile.mail_category_header
        self.marketing_by_default = adapter.profile.marketing_by_default
        self._override = self._ask_adapter if adapter.implements("classify_mail") else None

    def _ask_adapter(self, message: MailMessage) -> str | None:
        answer: str | None = self.adapter.call("classify_mail", message)
        return answer

    def kind(self, message: MailMessage) -> str:
        """Marketing or transactional; an unclassified message makes the check inconclusive."""
        kind = classify(message, self.category_header, self._override)
        if kind is None:
            raise CheckInconclusive(
                f"cannot tell whether {message.describe()} is marketing: it has no "
                f"{self.category_header} header the default rule knows, no List-Unsubscribe, "
                f"and {self.adapter.name} has no classify_mail(); add one of them"
            )
        return kind


@dataclass(frozen=True)
class UnsubscribeLinks:
    header_https: str | None
    header_mailto: str | None
    body: str | None


def unsubscribe_problems(message: MailMessage) -> list[str]:
    """What keeps a marketing message from having a working unsubscribe (RFC 2369, 8058)."""
    problems = []
    targets = message.list_unsubscribe
    https = [t for t in targets if t.lower().startswith("https://")]
    if not message.header("list-unsubscribe"):
        problems.append("no List-Unsubscribe header")
    elif not https and not any(t.lower().startswith("mailto:") for t in targets):
        problems.append(
            f"List-Unsubscribe {message.header('list-unsubscribe')!r} has no https or mailto target"
        )
    post = re.sub(r"\s+", "", message.header("list-unsubscribe-post")).lower()
    if post != ONE_CLICK:
        problems.append(
            "no 'List-Unsubscribe-Post: List-Unsubscribe=One-Click' header (RFC 8058)"
            if not post
            else f"List-Unsubscribe-Post is {message.header('list-unsubscribe-post')!r}, "
            "not 'List-Unsubscribe=One-Click'"
        )
    elif not https:
        problems.append("one-click unsubscribe needs an https target in List-Unsubscribe")
    if not body_unsubscribe_link(message):
        problems.append("no visible unsubscribe link in the body")
    return problems


def body_unsubscribe_link(message: MailMessage) -> str | None:
    """The visible link: one the header also names, else a body link that says unsubscribe."""
    header = set(message.list_unsubscribe)
    for link in message.links:
        if link in header:
            return link
    for link in message.links:
        if re.search(r"unsub|opt-?out|abmelden|desinscri|baja", link, re.IGNORECASE):
            return link
    return None


def unsubscribe_links(message: MailMessage) -> UnsubscribeLinks:
    targets = message.list_unsubscribe
    return UnsubscribeLinks(
        next((t for t in targets if t.lower().startswith("https://")), None),
        next((t for t in targets if t.lower().startswith("mailto:")), None),
        body_unsubscribe_link(message),
    )
