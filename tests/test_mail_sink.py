"""The SMTP sink: real SMTP on loopback, every message kept, parsed when first read."""

from __future__ import annotations

import logging
import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from pytest_stexcel_privacy.observe.mail_sink import MailSink, _free_port


@pytest.fixture(scope="module")
def sink() -> Iterator[MailSink]:
    started = MailSink().start()
    yield started
    started.stop()


def send(sink: MailSink, message: EmailMessage | bytes, to: list[str], **kw: object) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        if isinstance(message, bytes):
            client.sendmail("shop@example.com", to, message, **kw)  # type: ignore[arg-type]
        else:
            client.send_message(message, to_addrs=to, **kw)  # type: ignore[arg-type]


def test_multipart_encodings_and_links(sink: MailSink) -> None:
    mark = sink.mark()
    message = EmailMessage()
    message["From"] = "Shop <shop@example.com>"
    message["To"] = "Zoë <Zoe@Example.com>"
    message["Subject"] = "Neue Kollektion: Ringe für Sie ✨"
    message["List-Unsubscribe"] = (
        "<https://shop.example/u?t=abc>, <mailto:u@shop.example?subject=abc>"
    )
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(
        "Hallo Zoë,\nabmelden: https://shop.example/u?t=abc\n", cte="quoted-printable"
    )
    message.add_alternative(
        '<p>Hallo <b>Zoë</b>, <a href="https://shop.example/u?t=abc">abmelden</a></p>',
        subtype="html",
        cte="base64",
    )
    send(sink, message, ["Zoe@Example.com"])
    (got,) = sink.settle(mark)
    assert got.recipients == ("zoe@example.com",)
    assert got.to("ZOE@example.COM")
    assert got.subject == "Neue Kollektion: Ringe für Sie ✨"
    assert "Hallo Zoë" in got.text
    assert "abmelden" in got.text
    assert got.list_unsubscribe == (
        "https://shop.example/u?t=abc",
        "mailto:u@shop.example?subject=abc",
    )
    assert got.links == ("https://shop.example/u?t=abc",)
    # the link as a reader meets it: in the text part after its label, in the HTML part
    # as an anchor's text
    assert [(a.href, a.labels) for a in got.anchors] == [
        ("https://shop.example/u?t=abc", ("abmelden",)),
        ("https://shop.example/u?t=abc", ("abmelden",)),
    ]
    assert got.defects == ()


def test_anchors_survive_malformed_html(sink: MailSink) -> None:
    mark = sink.mark()
    message = EmailMessage()
    message["Subject"] = "sale"
    message.set_content(
        '<p>New <a href="https://s.example/c/1" title="Rings"><b>rings<a href="/rel">x'
        '<a aria-label="Unsubscribe" href=" https://s.example/c/2 "><img alt="stop">',
        subtype="html",
    )
    send(sink, message, ["a@example.com"])
    (got,) = sink.settle(mark)
    assert [(a.href, a.labels) for a in got.anchors] == [
        ("https://s.example/c/1", ("rings", "Rings")),
        ("/rel", ("x",)),
        ("https://s.example/c/2", ("stop", "Unsubscribe")),
    ]
    assert got.links == ("https://s.example/c/1", "https://s.example/c/2")


def test_eight_bit_headers_with_smtputf8(sink: MailSink) -> None:
    mark = sink.mark()
    raw = "From: shop@example.com\r\nTo: józef@example.com\r\nSubject: Cześć\r\n\r\nbody\r\n"
    send(sink, raw.encode("utf-8"), ["józef@example.com"], mail_options=["SMTPUTF8"])
    (got,) = sink.settle(mark)
    assert got.subject == "Cześć"
    assert got.recipients == ("józef@example.com",)


def test_malformed_message_is_kept_with_its_defects(sink: MailSink) -> None:
    mark = sink.mark()
    raw = (
        b"From: shop@example.com\r\nSubject: broken\r\nContent-Type: multipart/mixed\r\n\r\n"
        b"no boundary at all\r\n"
    )
    send(sink, raw, ["a@example.com"])
    (got,) = sink.settle(mark)
    assert got.subject == "broken"
    assert got.defects  # NoBoundaryInMultipartDefect or similar, reported not dropped
    assert got.header("to") == ""  # no To header: the envelope still says who received it
    assert got.recipients == ("a@example.com",)


def test_ten_megabyte_attachment(sink: MailSink) -> None:
    mark = sink.mark()
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message["To"] = "big@example.com"
    message["Subject"] = "catalogue"
    message.set_content("see attached")
    message.add_attachment(
        b"\x00" * (10 * 1024 * 1024),
        maintype="application",
        subtype="pdf",
        filename="catalogue.pdf",
    )
    send(sink, message, ["big@example.com"])
    (got,) = sink.settle(mark, timeout=10)
    assert got.attachments == ("catalogue.pdf",)
    assert len(got.raw) > 10 * 1024 * 1024


def test_client_dropping_mid_data_loses_only_that_message(sink: MailSink) -> None:
    mark = sink.mark()
    with socket.create_connection((sink.host, sink.port), timeout=5) as raw:
        reader = raw.makefile("rb")
        reader.readline()
        for line in (
            b"HELO x\r\n",
            b"MAIL FROM:<a@example.com>\r\n",
            b"RCPT TO:<b@example.com>\r\n",
            b"DATA\r\n",
        ):
            raw.sendall(line)
            reader.readline()
        raw.sendall(b"Subject: half\r\n\r\nthe client goes away before the dot")
    message = EmailMessage()
    message["Subject"] = "next"
    message.set_content("still working")
    send(sink, message, ["c@example.com"])
    got = sink.settle(mark)
    assert [m.subject for m in got] == ["next"]


def test_the_sinks_smtp_log_stays_out_of_the_modules_log_files(sink: MailSink) -> None:
    # A module logging INFO to a file (Django's LOGGING root) would otherwise keep every
    # recipient's address the suite's own SMTP server logged: residue it never wrote.
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root, handler = logging.getLogger(), Keep(logging.DEBUG)
    level, root.level = root.level, logging.DEBUG
    root.addHandler(handler)
    try:
        mark = sink.mark()
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@x.test", "ann@x.test", "hi"
        message.set_content("hello")
        send(sink, message, ["ann@x.test"])
        assert [m.subject for m in sink.since(mark)] == ["hi"]
    finally:
        root.removeHandler(handler)
        root.level = level
    assert [r for r in seen if r.name.startswith("mail.")] == []


def test_a_message_is_parsed_when_first_read_not_while_the_sender_waits(
    sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sink answers the sender before parsing (parsing costs more than the whole SMTP
    exchange, and most messages are only asked whom they went to); what the message
    says is parsed once, on first reading, and is the same as parsing it at once."""
    from pytest_stexcel_privacy.observe import mail_sink

    parsed: list[bytes] = []
    parse = mail_sink.parse_content

    def counting(raw: bytes) -> mail_sink.MailContent:
        parsed.append(raw)
        return parse(raw)

    monkeypatch.setattr(mail_sink, "parse_content", counting)
    mark = sink.mark()
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message["Subject"] = "Rings: 20% off"
    message["X-Mail-Category"] = "marketing"
    message.set_content("Unsubscribe: https://shop.example/u?t=abc\n")
    send(sink, message, ["ann@example.com", "bob@example.com"])
    (got,) = sink.settle(mark)
    assert got.recipients == ("ann@example.com", "bob@example.com")
    assert got.to("bob@example.com")
    assert parsed == []  # whom it went to needs no parsing
    assert got.header("x-mail-category") == "marketing"
    assert got.subject == "Rings: 20% off"
    assert got.links == ("https://shop.example/u?t=abc",)
    assert len(parsed) == 1  # parsed once, kept
    assert got.content == parse(got.raw)


def test_a_connection_does_not_ask_the_resolver_for_this_machines_name(
    sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiosmtpd looks up the name for its greeting on every connection unless given one,
    and that lookup waits on reverse DNS where it is slow: the sink gives it a name."""
    asked: list[str] = []
    monkeypatch.setattr(socket, "getfqdn", lambda name="": asked.append(name) or "x")
    mark = sink.mark()
    with smtplib.SMTP(sink.host, sink.port, local_hostname="client.example", timeout=5) as c:
        c.sendmail("shop@example.com", ["ann@example.com"], b"Subject: hi\r\n\r\nhello\r\n")
    assert [m.recipients for m in sink.settle(mark)] == [("ann@example.com",)]
    assert asked == []


READ_ALIKE = [
    (
        b"From: =?utf-8?q?J=C3=BCrgen?= <j@example.com>\r\nTo: a@example.com\r\n"
        b"Subject: =?utf-8?b?w7xiZXI=?=\r\n"
        b"Content-Type: multipart/alternative; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nw7xiZXIgaHR0cHM6Ly94LmNvbS91\r\n"
        b"--XX\r\nContent-Type: text/html; charset=bogus\r\n\r\n"
        b"<a href='https://u.example/1' title='Unsubscribe'>go</a>\r\n--XX--\r\n"
    ),
    (
        b"Subject: bad \xff header\r\nTo: <<a@b>>, ,\r\n"
        b'Content-Type: text/plain; charset="iso-8859-1"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nH=E9llo =\r\nworld\r\n"
    ),
    b"no headers at all",
    b'Content-Type: text/plain\r\nContent-Disposition: attachment; filename="a.txt"\r\n\r\nx',
]


@pytest.mark.parametrize("raw", READ_ALIKE)
def test_a_message_reads_as_the_stdlib_reads_it_however_often_its_headers_recur(
    raw: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each distinct header is parsed once and shared between messages: what a message
    # says must be exactly what policy.default makes of it, the first time and after.
    from email import policy

    from pytest_stexcel_privacy.observe import mail_sink

    first, again = mail_sink.parse_content(raw), mail_sink.parse_content(raw)
    monkeypatch.setattr(mail_sink, "READING_POLICY", policy.default)
    assert first == again == mail_sink.parse_content(raw)


def test_headers_seen_before_are_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_stexcel_privacy.observe import mail_sink

    memo = mail_sink._HeadersParsedOnce()
    monkeypatch.setattr(
        mail_sink, "READING_POLICY", mail_sink.READING_POLICY.clone(header_factory=memo)
    )
    raw = READ_ALIKE[0]
    first = mail_sink.parse_content(raw)

    class NotAgain:
        def __init__(self, name: str, value: str) -> None:
            raise AssertionError(f"{name}: {value!r} parsed again")

    monkeypatch.setattr(memo, "_classes", dict.fromkeys(memo._classes, NotAgain))
    assert mail_sink.parse_content(raw) == first


def test_the_parsed_header_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_stexcel_privacy.observe import mail_sink

    memo = mail_sink._HeadersParsedOnce()
    monkeypatch.setattr(memo, "MAX_KEPT", 5)
    for n in range(12):
        assert str(memo("Subject", f"subject {n}")) == f"subject {n}"
    assert len(memo._parsed) <= 5


ENVELOPE_ARGUMENTS = [
    ("mail", "<shop@example.com> SIZE=100"),
    ("rcpt", "<Ann.O'Hara@Example.com>"),
    ("rcpt", "<a@b@example.com>"),  # malformed: 553
    ("rcpt", "<a b@example.com>"),  # taken as '"a b"@example.com'
    ("rcpt", "<<a@example.com>>"),  # malformed: 553
    ("rcpt", "<a(comment)@example.com>"),
    ("rcpt", "<@>"),  # malformed: 553
    ("rcpt", "bare@example.com"),
]


def envelope_replies(host: str, port: int) -> list[tuple[int, bytes]]:
    replies = []
    with smtplib.SMTP(host, port, timeout=5) as client:
        client.ehlo()
        for _ in range(2):  # the second time, the sink answers from what it remembered
            for verb, argument in ENVELOPE_ARGUMENTS:
                command = "MAIL FROM:" if verb == "mail" else "RCPT TO:"
                replies.append(client.docmd(command + argument))
            client.rset()
    return replies


def test_envelope_addresses_are_answered_as_aiosmtpd_answers_them(sink: MailSink) -> None:
    from aiosmtpd.controller import Controller

    class Accept:
        async def handle_RCPT(
            self, server: object, session: object, envelope: Any, address: str, options: object
        ) -> str:
            envelope.rcpt_tos.append(address)
            return "250 OK"

    port = _free_port("127.0.0.1")
    plain = Controller(Accept(), hostname="127.0.0.1", port=port, server_hostname="localhost")
    plain.start()
    try:
        assert envelope_replies(sink.host, sink.port) == envelope_replies("127.0.0.1", port)
    finally:
        plain.stop()
