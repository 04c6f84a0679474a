"""A real SMTP server on loopback that keeps every message the module sends, parsed on reading.

The module sends with its normal mail code (smtplib, Django's e-mail backend,
Tryton's ...) to ``mail_sink.host:mail_sink.port``; aiosmtpd receives it. Every
message is kept, even one that cannot be parsed cleanly: its parse defects are
recorded and reported, never a reason to drop it. One sink serves a whole
session (one per pytest-xdist worker); checks take a ``mark()`` and ask only
for what arrived since.

Links are kept with what a reader sees of them (:class:`Anchor`): the text,
``title`` and ``aria-label`` of an HTML anchor (and the ``alt`` of an image
inside it), or the words before a link on its line in a plain-text part. A
module that routes every link through click tracking still shows which one
unsubscribes.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from functools import cached_property
from html.parser import HTMLParser
from typing import Any

from ..findings.masking import mask
from . import quiescence

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
LINK = re.compile(r"""(?:https?://|mailto:)[^\s<>"')\]]+""", re.IGNORECASE)


@dataclass(frozen=True)
class Anchor:
    """A link as a reader meets it: where it goes and what it says it is."""

    href: str
    text: str = ""  # the anchor's visible text, or the words before a plain-text link
    title: str = ""
    aria_label: str = ""

    @property
    def labels(self) -> tuple[str, ...]:
        """Everything that tells a reader what the link does."""
        return tuple(label for label in (self.text, self.title, self.aria_label) if label)


@dataclass(frozen=True)
class MailContent:
    """What a message says, parsed from its bytes: headers, text, links."""

    headers: dict[str, str]  # decoded; header names lower-cased
    text: str  # every text part, and the text of every HTML part
    html: str
    links: tuple[str, ...]  # http(s) and mailto links in the body, in order
    defects: tuple[str, ...] = ()
    attachments: tuple[str, ...] = field(default=())
    anchors: tuple[Anchor, ...] = ()  # every body link with its labels, in order


@dataclass(frozen=True)
class MailMessage:
    """One message as delivered: the envelope says who received it, the headers what it is.

    The bytes are parsed when a check first asks what the message says, not as it
    arrives: parsing takes longer than the whole SMTP exchange, the sending module
    waits for the sink's reply meanwhile, and most messages are only ever asked whom
    they went to.
    """

    index: int
    envelope_from: str
    recipients: tuple[str, ...]  # envelope recipients, lower-cased: who actually got it
    received_at: datetime
    raw: bytes

    @cached_property
    def content(self) -> MailContent:
        return parse_content(self.raw)

    @property
    def headers(self) -> dict[str, str]:
        return self.content.headers

    @property
    def text(self) -> str:
        return self.content.text

    @property
    def html(self) -> str:
        return self.content.html

    @property
    def links(self) -> tuple[str, ...]:
        return self.content.links

    @property
    def defects(self) -> tuple[str, ...]:
        return self.content.defects

    @property
    def attachments(self) -> tuple[str, ...]:
        return self.content.attachments

    @property
    def anchors(self) -> tuple[Anchor, ...]:
        return self.content.anchors

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
        """Which message, for a person to find it: recipients masked as the run masks."""
        to = ", ".join(mask(r) for r in self.recipients) or "(no recipients)"
        return f"message #{self.index} to {to}, subject {self.subject!r}"


def parse_message(index: int, envelope_from: str, recipients: list[str], raw: bytes) -> MailMessage:
    """The message as delivered; what it says is parsed when first asked for."""
    return MailMessage(index, envelope_from, _addresses(recipients), datetime.now(UTC), raw)


class _HeadersParsedOnce(HeaderRegistry):
    """``policy.default``'s header parsing, each distinct header parsed once.

    The stdlib builds a new header class, and parses the value again, every time a
    header is read (``Content-Type`` alone several times a part), and the messages of
    a run share most of their headers: that was most of the cost of reading a message.
    A parsed header is immutable, so one object serves every message that carries the
    same name and value; the result is the one the stdlib gives.
    """

    MAX_KEPT = 10_000  # distinct (name, value) pairs before the memo starts afresh

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}
        self._parsed: dict[tuple[str, str], BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: str) -> BaseHeader:
        key = (name, value)
        header = self._parsed.get(key)
        if header is None:
            header = self[name](name, value)
            if len(self._parsed) >= self.MAX_KEPT:
                self._parsed.clear()
            self._parsed[key] = header
        return header


READING_POLICY = policy.default.clone(header_factory=_HeadersParsedOnce())


def parse_content(raw: bytes) -> MailContent:
    """Parse leniently: a malformed message is kept, with what was wrong recorded."""
    defects: list[str] = []
    try:
        message = BytesParser(policy=READING_POLICY).parsebytes(raw)
    except Exception as exc:  # the stdlib parser should not raise; if it does, keep the bytes
        return MailContent({}, "", "", (), (f"unparseable: {exc}",))
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
    anchors: list[Anchor] = []
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
            html = _Html.read(content)
            htmls.append(content)
            texts.append(html.text)
            anchors.extend(html.anchors)
        else:
            texts.append(content)
            anchors.extend(_text_anchors(content))
    defects.extend(type(d).__name__ for d in message.defects)
    body = "\n".join(texts)
    links = tuple(LINK.findall(body + "\n" + "\n".join(a.href for a in anchors)))
    return MailContent(
        headers,
        body,
        "\n".join(htmls),
        tuple(dict.fromkeys(links)),
        tuple(dict.fromkeys(defects)),
        tuple(attachments),
        tuple(anchors),
    )


def _addresses(recipients: list[str]) -> tuple[str, ...]:
    return tuple(addr.lower() for _, addr in getaddresses(recipients) if addr)


def _text_anchors(text: str) -> list[Anchor]:
    """The links of a plain-text part, each labelled by the words before it on its line."""
    anchors = []
    for line in text.splitlines():
        start = 0
        for found in LINK.finditer(line):
            label = line[start : found.start()].strip(" \t:-|>([")
            anchors.append(Anchor(found.group(), text=label))
            start = found.end()
    return anchors


class _Html(HTMLParser):
    """The visible text of an HTML part and its anchors, however malformed the markup:
    an anchor left open ends at the next anchor or at the end of the part."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._text: list[str] = []
        self.anchors: list[Anchor] = []
        self._open: dict[str, str] | None = None
        self._open_text: list[str] = []

    @classmethod
    def read(cls, html: str) -> _Html:
        parser = cls()
        parser.feed(html)
        parser.close()
        parser._end_anchor()
        return parser

    @property
    def text(self) -> str:
        return "".join(self._text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a":
            self._end_anchor()
            if values.get("href", "").strip():
                self._open = values
        elif tag == "img" and self._open is not None and values.get("alt"):
            self._open_text.append(f" {values['alt']} ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._end_anchor()

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._open is not None:
            self._open_text.append(data)

    def _end_anchor(self) -> None:
        if self._open is not None:
            self.anchors.append(
                Anchor(
                    self._open["href"].strip(),
                    text=_words("".join(self._open_text)),
                    title=_words(self._open.get("title", "")),
                    aria_label=_words(self._open.get("aria-label", "")),
                )
            )
        self._open, self._open_text = None, []


def _words(text: str) -> str:
    return " ".join(text.split())


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


SMTP_LOGGERS = ("mail.log", "mail.debug")  # aiosmtpd's loggers
MAX_PARSED_ADDRESSES = 10_000  # MAIL and RCPT arguments remembered, then forgotten at once
_PARSED_ADDRESSES: dict[tuple[str, int], Any] = {}


def _counting_controller() -> type[Any]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class CountingSMTP(SMTP):
        """Tells the sink when a client connects and leaves."""

        def __init__(self, sink: MailSink, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._sink = sink

        def connection_made(self, transport: Any) -> None:
            self._sink._session(opened=True)
            super().connection_made(transport)

        def connection_lost(self, error: Exception | None) -> None:
            super().connection_lost(error)
            self._sink._session(opened=False)

        def _getaddr(self, arg: str) -> Any:
            """aiosmtpd's own parse of a MAIL or RCPT argument, remembered: it builds a
            class on every call (and parses with the stdlib's header parser), most of the
            sink's time per message, and a run sends to the same addresses again and
            again. A function of the argument and ``local_part_limit`` alone."""
            key = (arg, self.local_part_limit)
            parsed = _PARSED_ADDRESSES.get(key)
            if parsed is None:
                parsed = super()._getaddr(arg)
                if len(_PARSED_ADDRESSES) >= MAX_PARSED_ADDRESSES:
                    _PARSED_ADDRESSES.clear()
                _PARSED_ADDRESSES[key] = parsed
            return parsed

    class CountingController(Controller):
        def __init__(self, sink: MailSink, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._sink = sink

        def factory(self) -> SMTP:
            return CountingSMTP(self._sink, self.handler, **self.SMTP_kwargs)

    return CountingController


class MailSink:
    def __init__(self) -> None:
        self._messages: list[MailMessage] = []
        self._lock = threading.Condition()
        self._controller: Any = None
        self.host = "127.0.0.1"
        self.port = 0
        self._open_sessions = 0  # SMTP connections not yet closed: mail may still come
        self._idle_at: int | None = None  # adapter calls started when last found idle
        self._outside_sender = False  # mail came when nothing in the process could send
        self.last_wait_reason = ""  # why the last settle waited for quiet ("": it did not)

    def _session(self, opened: bool) -> None:
        with self._lock:
            self._open_sessions += 1 if opened else -1
            self._lock.notify_all()

    def start(self) -> MailSink:
        # aiosmtpd logs every envelope (each recipient's address) at INFO. Those lines are
        # the suite's, not the module's: propagated, they would land in the module's log
        # files, which the deletion checks scan, as residue the module never wrote.
        for name in SMTP_LOGGERS:
            logging.getLogger(name).propagate = False

        last_error: Exception | None = None
        for _ in range(5):  # a free port can be taken between probing and binding
            self.port = _free_port(self.host)
            controller = _counting_controller()(
                self,
                _Handler(self),
                hostname=self.host,
                port=self.port,
                # The name in its greeting. Without one, aiosmtpd asks the resolver for
                # this machine's name (socket.getfqdn) on every connection, which waits
                # on reverse DNS wherever that is slow or unreachable.
                server_hostname="localhost",
                data_size_limit=MAX_MESSAGE_BYTES,
                enable_SMTPUTF8=True,
                decode_data=False,
                ready_timeout=5.0,
            )
            try:
                with quiescence.suite_threads():
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
        for name in SMTP_LOGGERS:
            logging.getLogger(name).propagate = True

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def _receive(self, envelope_from: str, recipients: list[str], raw: bytes) -> None:
        with self._lock:
            if self._idle_at is not None and quiescence.quiet_since(self._idle_at):
                self._outside_sender = True  # nothing in the process could have sent it

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
        """Messages since ``mark`` once none has arrived for ``quiet`` seconds, or at once
        when nothing in the process can still send any (:mod:`.quiescence`)."""
        reason = self.why_more_may_come(quiet)
        self.last_wait_reason = reason
        if not reason:
            with self._lock:
                self._idle_at = quiescence.calls_started()
                return self._messages[mark:]
        deadline = time.monotonic() + timeout
        with self._lock:
            count = len(self._messages)
            while time.monotonic() < deadline:
                self._lock.wait(quiet)
                if len(self._messages) == count:
                    break
                count = len(self._messages)
            return self._messages[mark:]

    def why_more_may_come(self, wait: float = 0.0) -> str:
        """Why a message may still arrive ("" when nothing can send one), waiting up to
        ``wait`` seconds for the threads that are finishing."""
        deadline = time.monotonic() + wait
        with self._lock:  # a client that has said QUIT is gone a moment later
            while self._open_sessions and self._lock.wait(deadline - time.monotonic()):
                pass
            if self._outside_sender:
                return "a message once arrived when nothing in this process could send it"
            open_sessions = self._open_sessions
        return quiescence.busy(max(0.0, deadline - time.monotonic()), open_sessions)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
