"""Outgoing e-mail: composing, signing unsubscribe links, and handing messages to SMTP.

Marketing carries an unsubscribe link in the body and in the List-Unsubscribe
header (RFC 2369), with one-click unsubscribe (RFC 8058). The link names the
customer and carries an HMAC of their id, so it cannot be edited to
unsubscribe somebody else.
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
from collections.abc import Iterable
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from urllib.parse import parse_qs, unquote, urlsplit

SHOP_ADDRESS = "Stexcel Jewelers <hello@shop.example>"
UNSUBSCRIBE_URL = "https://shop.example/unsubscribe"
UNSUBSCRIBE_MAILBOX = "unsubscribe@shop.example"


# A body that is not plain ASCII goes out as UTF-8, quoted-printable: readable in the raw
# message, unlike base64, the utf-8 default.
UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP


class InvalidUnsubscribeLink(ValueError):
    pass


class MailRelay:
    def __init__(self, smtp: tuple[str, int] | None, secret: bytes) -> None:
        self.smtp = smtp
        self.secret = secret

    def token(self, customer_id: int) -> str:
        digest = hmac.new(self.secret, f"unsubscribe:{customer_id}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def unsubscribe_url(self, customer_id: int) -> str:
        return f"{UNSUBSCRIBE_URL}?c={customer_id}&t={self.token(customer_id)}"

    def compose(self, customer_id: int, to: str, subject: str, body: str, kind: str) -> Message:
        """A plain-text message, built with the classic ``Message`` API: its headers are
        plain strings, where ``EmailMessage`` parses every one as it is set and again as
        it is sent (most of the time a campaign took)."""
        message = Message()
        message["From"] = SHOP_ADDRESS
        message["To"] = to
        message["Subject"] = _header(subject)
        message["X-Mail-Category"] = kind
        if kind == "marketing":
            url = self.unsubscribe_url(customer_id)
            mailto = (
                f"mailto:{UNSUBSCRIBE_MAILBOX}?subject=unsubscribe%20{customer_id}%20"
                f"{self.token(customer_id)}"
            )
            message["List-Unsubscribe"] = f"<{url}>, <{mailto}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            body = f"{body}\nNo longer interested? Unsubscribe: {url}\n"
        message.set_payload(body, "us-ascii" if body.isascii() else UTF8_QP)
        return message

    def customer_of(self, link: str) -> int:
        """The customer an unsubscribe link was issued to; a forged link is refused."""
        parts = urlsplit(link)
        if parts.scheme == "mailto":
            words = unquote(parse_qs(parts.query).get("subject", [""])[0]).split()
            customer, token = (words[1], words[2]) if len(words) == 3 else ("", "")
        elif f"{parts.scheme}://{parts.netloc}{parts.path}" == UNSUBSCRIBE_URL:
            query = parse_qs(parts.query)
            customer, token = query.get("c", [""])[0], query.get("t", [""])[0]
        else:
            raise InvalidUnsubscribeLink(f"not an unsubscribe link: {link!r}")
        if not customer.isdigit() or not hmac.compare_digest(token, self.token(int(customer))):
            raise InvalidUnsubscribeLink("the unsubscribe link was altered or forged")
        return int(customer)

    def send(self, messages: Iterable[Message]) -> int:
        pending = list(messages)
        if self.smtp is None or not pending:
            return 0
        with smtplib.SMTP(*self.smtp, timeout=10) as client:
            for message in pending:
                client.send_message(message)
        return len(pending)


def _header(value: str) -> str:
    """A header value as sent: non-ASCII text as an RFC 2047 encoded word."""
    return value if value.isascii() else Header(value, "utf-8").encode()
