"""Which messages are marketing, which are notices: the rule the mail checks judge by.

Every message is one of three kinds:

* ``marketing``: must carry a working unsubscribe, and must not reach anyone
  who opted out;
* ``transactional``: service mail (an order confirmation, a receipt), which an
  opt-out of marketing must not stop;
* ``notice``: a message about the account itself (a password reset, an
  address confirmation, a deletion receipt, a privacy-policy change). Never
  judged as marketing, allowed to the opted out, and the one kind that may
  reach a person while their own ``delete()`` runs (the receipt). After that
  step nothing reaches a deleted person, notices included: the policy's
  change notices go to the primary address of an *account*.

The rule, first answer wins:

1. the adapter's ``classify_mail(message)``, when it has one and it answers;
2. the category header the adapter names (``mail_category_header``, by
   default ``X-Mail-Category``): ``MARKETING_VALUES`` are marketing,
   ``NOTICE_VALUES`` notices, ``TRANSACTIONAL_VALUES`` transactional. A
   non-marketing value with a subject from the table below is a notice (the
   header says "not marketing", the subject which kind); a marketing value
   is never overruled by a subject;
3. a subject of the account mail that common frameworks send by default
   (``KNOWN_NOTICE_SUBJECTS``: Django, django-allauth, django-oscar, Devise,
   Laravel, Odoo, and generic deletion and policy-change notices), matched whole
   and case-insensitively, after an optional ``[site]`` prefix;
4. a ``List-Unsubscribe`` header, or ``Precedence: bulk``, marks marketing.

``Auto-Submitted: auto-generated`` (RFC 3834) is deliberately no signal: it
only says a program wrote the message, which is as true of a campaign tool
(which sets it to silence auto-replies) as of a password reset.

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
from ..findings.masking import mask
from ..observe.mail_sink import MailMessage

if TYPE_CHECKING:
    from ..contract.checked import CheckedAdapter

MARKETING = "marketing"
TRANSACTIONAL = "transactional"
NOTICE = "notice"
KINDS = (MARKETING, TRANSACTIONAL, NOTICE)
MARKETING_VALUES = frozenset(
    {"marketing", "newsletter", "promotion", "promotional", "campaign", "advertising", "bulk"}
)
NOTICE_VALUES = frozenset({"notice", "account", "security", "policy"})
TRANSACTIONAL_VALUES = frozenset({"transactional", "notification", "order", "receipt", "service"})
ONE_CLICK = "list-unsubscribe=one-click"

# The promises about mail, as the ``location`` of their evidence (see Evidence.key): what
# an acceptance or a baseline names.
MAIL_AFTER_DELETION = "mail-after-deletion"
MARKETING_AFTER_OPT_OUT = "marketing-after-opt-out"
NO_WORKING_UNSUBSCRIBE = "marketing-without-working-unsubscribe"
CAMPAIGN_MISSED = "campaign-missed-subscriber"
SERVICE_MAIL_MISSING = "service-mail-missing"
MAIL_TO_REFUSED_CHILD = "mail-about-a-refused-child"

# The account mail frameworks send out of the box, by the shape of its whole subject:
# (who sends it, a regular expression matched against the entire subject).
KNOWN_NOTICE_SUBJECTS: tuple[tuple[str, str], ...] = (
    ("Django", r"password reset on .+"),
    ("django-allauth", r"please confirm your e-?mail address"),
    ("django-allauth", r"password reset e-?mail"),
    ("django-allauth, Devise", r"(e-?mail|password) changed"),
    ("Devise", r"reset password instructions"),
    ("Devise", r"confirmation instructions"),
    ("Devise", r"unlock instructions"),
    ("Laravel", r"reset password notification"),
    ("Laravel", r"verify e-?mail address"),
    ("Odoo", r"password reset"),
    ("django-oscar", r"thank you for registering"),
    ("django-oscar", r"your (e-?mail address|password) (has )?changed at .+"),
    ("django-oscar", r"resetting your password at .+"),
    ("django-oscar", r"confirmation required for stock alert"),
    ("deletion receipt", r"your (personal )?(data|account) (has been|was) (deleted|erased)"),
    ("deletion receipt", r"(your )?account (deleted|closed)"),
    ("deletion receipt", r"(account |data )?deletion (confirmation|confirmed|complete)"),
    ("policy change", r"(an )?(update|updates|changes) to our privacy (policy|statement)"),
    ("policy change", r"privacy (policy|statement) (update|updated|changes)"),
    ("policy change", r"we(('ve)| have) updated our privacy (policy|statement)"),
)
_SUBJECT_PREFIX = re.compile(r"^\s*(\[[^\]]*\]\s*)?")
_KNOWN_SUBJECT = re.compile(
    "|".join(f"(?:{pattern})" for _, pattern in KNOWN_NOTICE_SUBJECTS), re.IGNORECASE
)


def known_notice_subject(subject: str) -> bool:
    """Whether the whole subject is one of ``KNOWN_NOTICE_SUBJECTS``."""
    shown = " ".join(_SUBJECT_PREFIX.sub("", subject).split()).rstrip(".!")
    return bool(shown) and _KNOWN_SUBJECT.fullmatch(shown) is not None


def classify(
    message: MailMessage,
    category_header: str = AdapterProfile.mail_category_header,
    override: Callable[[MailMessage], str | None] | None = None,
) -> str | None:
    """``"marketing"``, ``"transactional"``, ``"notice"``, or None when the message cannot be
    placed."""
    if override is not None:
        answer = override(message)
        if answer is not None:
            if answer not in KINDS:
                raise ValueError(
                    f"classify_mail() returned {answer!r} for {message.describe()}; "
                    f"it must return one of {list(KINDS)} or None"
                )
            return answer
    category = message.header(category_header).strip().lower()
    if category in MARKETING_VALUES:
        return MARKETING
    known = known_notice_subject(message.subject)
    if category in NOTICE_VALUES or (known and category in TRANSACTIONAL_VALUES):
        return NOTICE
    if category in TRANSACTIONAL_VALUES:
        return TRANSACTIONAL
    if known:
        return NOTICE
    if message.header("list-unsubscribe") or message.header("precedence").lower() == "bulk":
        return MARKETING
    return None


class AdapterMailRule:
    """The rule as one adapter configures it, for every check that judges its mail."""

    def __init__(self, adapter: CheckedAdapter, call_timeout: float) -> None:
        self.adapter = adapter
        self.call_timeout = call_timeout
        self.category_header = adapter.profile.mail_category_header
        self.marketing_by_default = adapter.profile.marketing_by_default
        self._override = self._ask_adapter if adapter.implements("classify_mail") else None

    def _ask_adapter(self, message: MailMessage) -> str | None:
        answer: str | None = self.adapter.call_within(self.call_timeout, "classify_mail", message)
        return answer

    def kind(self, message: MailMessage) -> str:
        """Marketing, transactional or notice; an unclassified message makes the check
        inconclusive."""
        kind = classify(message, self.category_header, self._override)
        if kind is None:
            raise CheckInconclusive(
                f"cannot tell whether {message.describe()} is marketing: it has no "
                f"{self.category_header} header the default rule knows, no subject of a "
                f"known account notice, no List-Unsubscribe, and {self.adapter.name} has no "
                "classify_mail(); add one of them"
            )
        return kind


@dataclass(frozen=True)
class UnsubscribeLinks:
    header_https: str | None
    header_mailto: str | None
    body: str | None


def unsubscribe_problems(
    message: MailMessage,
    *,
    require_headers: bool = AdapterProfile.require_list_unsubscribe_headers,
) -> list[str]:
    """What keeps a marketing message from having a working unsubscribe: a visible link in
    the body, and with ``require_headers`` (``require_list_unsubscribe_headers``, stricter
    than the policy) the RFC 2369 and 8058 headers too."""
    problems = [] if body_unsubscribe_link(message) else ["no visible unsubscribe link in the body"]
    if require_headers:
        problems[:0] = header_problems(message)
    return problems


def header_problems(message: MailMessage) -> list[str]:
    """What keeps the headers from offering a one-click unsubscribe (RFC 2369, 8058)."""
    problems = []
    targets = message.list_unsubscribe
    https = [t for t in targets if t.lower().startswith("https://")]
    if not message.header("list-unsubscribe"):
        problems.append("no List-Unsubscribe header")
    elif not https and not any(t.lower().startswith("mailto:") for t in targets):
        problems.append(
            f"List-Unsubscribe {mask(message.header('list-unsubscribe'))!r} has no https or "
            "mailto target"
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
    return problems


# What an unsubscribe link says of itself, in its address or its label: English, German,
# French and Spanish.
SAYS_UNSUBSCRIBE = re.compile(
    r"unsub|opt[\s_-]?out|abmelden|d[eé]sinscri|d[eé]sabonn|\bbaja\b", re.IGNORECASE
)


def body_unsubscribe_link(message: MailMessage) -> str | None:
    """The visible link: one the header also names, else a link whose text, ``title`` or
    ``aria-label`` says unsubscribe (whatever its address: click tracking hides it), else
    one whose address says so. Whether it works is for the module's ``unsubscribe()``."""
    header = set(message.list_unsubscribe)
    for link in message.links:
        if link in header:
            return link
    for anchor in message.anchors:
        if anchor.href in message.links and any(
            SAYS_UNSUBSCRIBE.search(label) for label in anchor.labels
        ):
            return anchor.href
    for link in message.links:
        if SAYS_UNSUBSCRIBE.search(link):
            return link
    return None


def unsubscribe_links(message: MailMessage) -> UnsubscribeLinks:
    targets = message.list_unsubscribe
    return UnsubscribeLinks(
        next((t for t in targets if t.lower().startswith("https://")), None),
        next((t for t in targets if t.lower().startswith("mailto:")), None),
        body_unsubscribe_link(message),
    )
