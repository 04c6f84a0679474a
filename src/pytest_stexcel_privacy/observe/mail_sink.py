"""A real SMTP server on loopback that keeps and parses every message the module sends.

The module sends with its normal mail code (smtplib, Django's e-mail backend,
Tryton's ...) to ``mail_sink.host:mail_sink.port``; aiosmtpd receives it. Every
message is kept, even one that cannot be parsed cleanly: its parse defects are
recorded and reported, never a reason to drop it. One sink serves a whole
session (one per pytest-xdist worker); checks take a ``mark()`` and ask only
for what arrived since.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
LINK = re.compile(r"""(?:https?://|mailto:)[^\s<>"')\]]+""", re.IGNORECASE)


@dataclass(frozen=True)
class MailMessage:
    """One message as delivered: the envelope says who received it, the headers what it is."""

    index: int
    envelope_from: str
    recipients: tuple[str, ...]  # envelope recipients, lower-cased: who actually got it
    received_at: datetime
    raw: bytes
    headers: dict[str, str]  # decoded; header names lower-cased
    text: str  # every text part, and the text of every HTML part
    html: str
    links: tuple[str, ...]  # http(s) and mailto links in the body, in order
    defects: tuple[str, ...] = ()
    attachments: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def subject(self) -> str:
        return self.header("subject")

    @property
    def list_unsubscribe(self) -> tuple[str, ...]:
        """Targets of the RFC 2369 header: ``<https://...>, <mailto:...>``."""
        return tuple(re.findall(r"<([^<>]+)>", self.header("list-unsubscribe")))

    def to(self, address: str) -> bool:
        return address.strip().lower() in self.recipients

    def describe(self) -> str:
        to = ", ".join(self.recipients) or "(no recipients)"
        return f"message #{self.index} to {to}, subject {self.subject!r}"


def parse_message(index: int, envelope_from: str, recipients: list[str], raw: bytes) -> MailMessage:
    """Parse leniently: a malformed message is kept, with what was wrong recorded."""
    defects: list[str] = []
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the stdlib parser should not raise; if it does, keep the bytes
        return MailMessage(
            index,
            envelope_from,
            _addresses(recipients),
            datetime.now(UTC),
            raw,
            {},
            "",
            "",
            (),
            (f"unparseable: {exc}",),
        )
    assert isinstance(message, EmailMessage)
    headers: dict[str, str] = {}
    for name in dict.fromkeys(message.keys()):  # a repeated header: its first value
        try:
            headers[name.lower()] = str(message[name])
        except Exception as exc:  # an undecodable header: keep it raw, note the defect
            headers[name.lower()] = str(message.get(name, ""))
            defects.append(f"header {name}: {exc}")
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        defects.extend(type(d).__name__ for d in part.defects)
        if part.get_content_disposition() == "attachment":
            attachments.append(part.get_filename() or part.get_content_type())
            continue
        if part.get_content_maintype() != "text":
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError) as exc:
            payload = part.get_payload(decode=True)
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            defects.append(f"{part.get_content_type()} part: {exc}")
        if part.get_content_subtype() == "html":
            htmls.append(content)
            texts.append(_html_text(content))
        else:
            texts.append(content)
    defects.extend(type(d).__name__ for d in message.defects)
    body = "\n".join(texts)
    links = tuple(LINK.findall(body + "\n" + "\n".join(_html_hrefs(h) for h in htmls)))
    return MailMessage(
        index,
        envelope_from,
        _addresses(recipients),
        datetime.now(UTC),
        raw,
        headers,
        body,
        "\n".join(htmls),
        tuple(dict.fromkeys(links)),
        tuple(dict.fromkeys(defects)),
        tuple(attachments),
    )


def _addresses(recipients: list[str]) -> tuple[str, ...]:
    return tuple(addr.lower() for _, addr in getaddresses(recipients) if addr)


class _TextAndLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _html_text(html: str) -> str:
    parser = _TextAndLinks()
    parser.feed(html)
    return "".join(parser.text)


def _html_hrefs(html: str) -> str:
    parser = _TextAndLinks()
    parser.feed(html)
    return "\n".join(parser.hrefs)


class _Handler:
    """aiosmtpd handler: accept every recipient and every message, keep them all."""

    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        raw = data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogateescape")
        self.sink._receive(envelope.mail_from or "", list(envelope.rcpt_tos), raw)
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self) -> None:
        self._messages: list[MailMessage] = []
        self._lock = threading.Condition()
        self._controller: Any = None
        self.host = "127.0.0.1"
        self.port = 0

    def start(self) -> MailSink:
        from aiosmtpd.controller import Controller

        last_error: Exception | None = None
        for _ in range(5):  # a free port can be taken between probing and binding
            self.port = _free_port(self.host)
            controller = Controller(
                _Handler(self),
                hostname=self.host,
                port=self.port,
                data_size_limit=MAX_MESSAGE_BYTES,
                enable_SMTPUTF8=True,
                decode_data=False,
                ready_timeout=5.0,
            )
            try:
                controller.start()
            except Exception as exc:  # bound by someone else in the meantime
                last_error = exc
                continue
            self._controller = controller
            return self
        raise RuntimeError(f"could not start the SMTP sink on {self.host}: {last_error}")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def _receive(self, envelope_from: str, recipients: list[str], raw: bytes) -> None:
        with self._lock:
            message = parse_message(len(self._messages), envelope_from, recipients, raw)
            self._messages.append(message)
            self._lock.notify_all()

    # --- asking what arrived ------------------------------------------------------------

    @property
    def messages(self) -> list[MailMessage]:
        with self._lock:
            return list(self._messages)

    def mark(self) -> int:
        with self._lock:
            return len(self._messages)

    def since(self, mark: int) -> list[MailMessage]:
        with self._lock:
            return self._messages[mark:]

    def to(self, address: str, since: int = 0) -> list[MailMessage]:
        return [m for m in self.since(since) if m.to(address)]

    def settle(self, mark: int, quiet: float = 0.05, timeout: float = 2.0) -> list[MailMessage]:
        """Messages since ``mark`` once none has arrived for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            count = len(self._messages)
            while time.monotonic() < deadline:
                self._lock.wait(quiet)
                if len(self._messages) == count:
                    break
                count = len(self._messages)
            return self._messages[mark:]


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
