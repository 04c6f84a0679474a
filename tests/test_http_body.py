"""A request the module streams or compresses reaches the checks as its provider reads it.

Sent over real HTTP to the real provider sink: chunked bodies are joined, gzip and
deflate undone, and a body the sink cannot read or undo makes every search of the
request an error naming it, never a clean request.
"""

from __future__ import annotations

import gzip
import http.client
import io
import json
import socket
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_stexcel_privacy import Processor
from pytest_stexcel_privacy.checks.deletion import processor_told, request_identifies
from pytest_stexcel_privacy.checks.sharing_rules import recipient, sharing_problems
from pytest_stexcel_privacy.errors import RequestUnreadable
from pytest_stexcel_privacy.observe.http_body import (
    MAX_BODY_BYTES,
    BodyUnreadable,
    decoded,
    read_body,
)
from pytest_stexcel_privacy.observe.processor_sink import ProcessorSink, RecordedRequest
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher

PERSON = assemble(given="Ann", family="Streamed")
MATCHER = NeedleMatcher(PERSON.needles)
BODY = json.dumps({"visitor": 7, "email": PERSON.email}).encode()


@pytest.fixture(scope="module")
def sink() -> Iterator[ProcessorSink]:
    running = ProcessorSink().start()
    yield running
    running.stop()


def send(sink: ProcessorSink, body: bytes | list[bytes], **headers: str) -> RecordedRequest:
    """POST ``body`` to the sink's analytics path (a list: sent chunked, a chunk each)."""
    mark = sink.mark()
    host, port = sink.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        chunked = isinstance(body, list)
        headers = {k.replace("_", "-"): v for k, v in headers.items()}
        connection.request(
            "POST",
            "/analytics/events",
            body=iter(body) if chunked else body,
            headers=headers,
            encode_chunked=chunked,
        )
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    (request,) = sink.since(mark)
    return request


def analytics_problems(sink: ProcessorSink, request: RecordedRequest) -> list[str]:
    declared = [Processor("analytics", sink.url_for("analytics"), purpose="statistical-analysis")]
    found = sharing_problems(request, recipient(request, declared, sink.url), MATCHER)
    return [e.text for e in found]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ([BODY[:9], BODY[9:30], BODY[30:]], {"Transfer-Encoding": "chunked"}),
        (gzip.compress(BODY), {"Content-Encoding": "gzip"}),
        (gzip.compress(BODY[:20]) + gzip.compress(BODY[20:]), {"Content-Encoding": "x-gzip"}),
        (zlib.compress(BODY), {"Content-Encoding": "deflate"}),
        (zlib.compress(BODY)[2:-4], {"Content-Encoding": "deflate"}),  # raw, unwrapped
        ([gzip.compress(zlib.compress(BODY))], {"Content-Encoding": "deflate, gzip"}),
    ],
    ids=["chunked", "gzip", "two-gzip-members", "deflate", "raw-deflate", "chunked-deflate-gzip"],
)
def test_an_email_streamed_or_compressed_to_statistics_is_found(
    sink: ProcessorSink, body: bytes | list[bytes], headers: dict[str, str]
) -> None:
    request = send(sink, body, **headers)
    assert request.content == BODY
    (problem,) = analytics_problems(sink, request)
    assert "received email, a direct identifier statistical analysis does not need" in problem


def test_a_compressed_deletion_request_identifies_the_person(sink: ProcessorSink) -> None:
    """Searched as sent, it would not: the processor would seem never told (a false alarm)."""
    request = send(sink, gzip.compress(BODY), Content_Encoding="gzip")
    assert request_identifies(request, MATCHER)
    assert not request_identifies(
        send(sink, gzip.compress(b'{"visitor": 7}'), Content_Encoding="gzip"), MATCHER
    )


def test_an_empty_body_marked_compressed_is_empty_not_unreadable(sink: ProcessorSink) -> None:
    """A client may mark every request so, a bodiless DELETE too."""
    request = send(sink, b"", Content_Encoding="gzip")
    assert request.content == b""
    assert analytics_problems(sink, request) == []


def test_an_unreadable_request_to_a_processor_is_no_finding_either_way(
    sink: ProcessorSink,
) -> None:
    """Told, perhaps: the deletion check errors rather than fail or pass on it, and
    another request that identifies the person proves the processor told."""
    analytics = Processor("analytics", sink.url_for("analytics"))
    unreadable = send(sink, b"\x1b\x03\x00", Content_Encoding="br")
    plain = send(sink, b'{"visitor": 7}')
    identifying = send(sink, BODY)
    outcome = processor_told(analytics, [unreadable, plain], MATCHER, sink.url)
    assert isinstance(outcome, RequestUnreadable)
    assert processor_told(analytics, [unreadable, identifying], MATCHER, sink.url) is True
    assert processor_told(analytics, [plain], MATCHER, sink.url) is False


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_a_bodiless_method_is_answered_and_recorded(sink: ProcessorSink, method: str) -> None:
    """Refused (the standard library's 501), it would fail a correct module's call; not
    recorded, an e-mail in its query would go unseen. Read off the socket to its end, as
    ``http.client`` reads no body after a HEAD whatever the server sends."""
    mark = sink.mark()
    host, port = sink.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as client:
        path = f"/analytics/seen?email={PERSON.email}"
        client.sendall(f"{method} {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        answer = b"".join(iter(lambda: client.recv(65536), b""))
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 ")
    length = int(
        next(line for line in head.split(b"\r\n") if line.startswith(b"Content-Length:"))[15:]
    )
    if method == "HEAD":  # the headers a GET's answer has, and no body
        assert payload == b""
        assert length > 0
    else:
        assert json.loads(payload)["ok"] is True
        assert length == len(payload)
    (request,) = sink.since(mark)
    assert request.method == method
    (problem,) = analytics_problems(sink, request)
    assert "received email" in problem


def test_a_header_sent_twice_keeps_both_values(sink: ProcessorSink) -> None:
    mark = sink.mark()
    host, port = sink.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    packed = gzip.compress(zlib.compress(BODY))
    connection.putrequest("POST", "/analytics/events")
    connection.putheader("Content-Encoding", "deflate")
    connection.putheader("Content-Encoding", "gzip")
    connection.putheader("Content-Length", str(len(packed)))
    connection.endheaders(packed)
    assert connection.getresponse().status == 200
    connection.close()
    (request,) = sink.since(mark)
    assert request.content == BODY


@pytest.mark.parametrize(
    ("body", "headers", "why"),
    [
        (b"\x1b\x03\x00", {"Content-Encoding": "br"}, "Content-Encoding 'br' cannot be undone"),
        (BODY, {"Content-Encoding": "gzip"}, "it is not valid gzip"),
        (gzip.compress(BODY)[:-12], {"Content-Encoding": "gzip"}, "ends early"),
    ],
    ids=["unknown-coding", "not-gzip", "cut-short"],
)
def test_a_body_the_sink_cannot_undo_is_an_error_naming_the_request(
    sink: ProcessorSink, body: bytes, headers: dict[str, str], why: str
) -> None:
    request = send(sink, body, **headers)
    for search in (lambda: request.searchable, lambda: analytics_problems(sink, request)):
        with pytest.raises(RequestUnreadable, match=why) as raised:
            search()
        assert "POST /analytics/events to a provider could not be read" in str(raised.value)


def test_a_malformed_chunked_body_is_recorded_unreadable(sink: ProcessorSink) -> None:
    """And answered: the rest of the body (megabytes here) is read, not left to reset the
    connection under the answer."""
    mark = sink.mark()
    host, port = sink.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.putrequest("POST", "/analytics/events")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders(b"zz\r\n" + BODY * 100_000 + b"\r\n0\r\n\r\n")
    assert connection.getresponse().status == 200
    connection.close()
    (request,) = sink.since(mark)
    with pytest.raises(RequestUnreadable, match="a chunk's size line reads b'zz"):
        request.searchable  # noqa: B018 - the property raises


def chunked(pieces: list[bytes], trailer: bytes = b"") -> bytes:
    out = b"".join(b"%x;ext=1\r\n%b\r\n" % (len(p), p) for p in pieces if p)
    return out + b"0\r\n" + trailer + b"\r\n"


@given(st.lists(st.binary(max_size=300), max_size=8), st.binary(max_size=20))
def test_chunks_join_to_the_body_and_leave_the_stream_at_its_end(
    pieces: list[bytes], after: bytes
) -> None:
    stream = io.BytesIO(chunked(pieces, b"X-Checksum: 1\r\n") + after)
    assert read_body({"Transfer-Encoding": "chunked"}, stream) == b"".join(pieces)
    assert stream.read() == after


def raw_deflate(body: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(body) + packer.flush()


CODERS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "raw deflate": raw_deflate,
    "identity": bytes,
}


@given(st.binary(max_size=2000), st.sampled_from(sorted(CODERS)))
def test_each_content_coding_is_undone(body: bytes, coder: str) -> None:
    coding = coder.removeprefix("raw ")
    assert decoded({"content-encoding": coding.upper()}, CODERS[coder](body)) == body


@pytest.mark.parametrize(
    ("headers", "stream", "why"),
    [
        ({"Content-Length": "10"}, b"short", "ended after 5 of 10 bytes"),
        ({"Content-Length": "-1"}, b"", "is not a length"),
        ({"Transfer-Encoding": "gzip, chunked"}, b"", "is not chunked alone"),
        ({"Transfer-Encoding": "chunked"}, b"5\r\nabc", "ended before its size"),
        ({"Transfer-Encoding": "chunked"}, b"3\r\nabcdef\r\n0\r\n\r\n", "ran past it"),
        ({"Transfer-Encoding": "chunked"}, b"%x\r\n" % (MAX_BODY_BYTES + 1), "chunks of over"),
        ({"transfer-encoding": "chunked"}, b"-1\r\nabc", "size line reads b'-1"),
        ({"Transfer-Encoding": "chunked"}, b"0x5\r\nabcde\r\n0\r\n\r\n", "size line"),
        ({"content-length": "\u00b2"}, b"ab", "is not a length"),
    ],
)
def test_a_body_that_breaks_its_own_framing_is_unreadable(
    headers: dict[str, str], stream: bytes, why: str
) -> None:
    with pytest.raises(BodyUnreadable, match=why):
        read_body(headers, io.BytesIO(stream))


def test_a_body_that_decompresses_past_the_bound_is_unreadable() -> None:
    bomb = gzip.compress(bytes(MAX_BODY_BYTES + 1))
    with pytest.raises(BodyUnreadable, match="decompresses to over"):
        decoded({"Content-Encoding": "gzip"}, bomb)
