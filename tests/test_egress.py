"""The egress guard sees every way a module can reach out, and lets nothing leave."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from pytest_stexcel_privacy.observe.egress import EgressRefused, guarded, refused


def test_raw_socket_to_an_outside_address_is_recorded_and_refused() -> None:
    with guarded() as guard, socket.socket() as sock, pytest.raises(EgressRefused):
        sock.connect(("203.0.113.7", 80))
    assert [(e.kind, e.host, e.port) for e in guard.events] == [("connect", "203.0.113.7", 80)]


def test_ipv6_literal_and_connect_ex() -> None:
    with guarded() as guard, socket.socket(socket.AF_INET6) as sock:
        assert sock.connect_ex(("2001:db8::1", 443, 0, 0)) != 0
    assert guard.events[0].host == "2001:db8::1"


def test_name_lookups_are_normalised_and_refused() -> None:
    with guarded() as guard, pytest.raises(socket.gaierror, match="egress guard"):
        socket.getaddrinfo("Analytics.EU-West-1.AmazonAWS.com.", "443")
    assert (guard.events[0].host, guard.events[0].port) == (
        "analytics.eu-west-1.amazonaws.com",
        443,
    )


def test_urllib_https_request_is_seen_with_its_query_before_refusal() -> None:
    with guarded() as guard, pytest.raises(urllib.error.URLError) as caught:
        urllib.request.urlopen(
            "https://track.example.org:8443/c?email=ann%40example.com", timeout=2
        )
    assert refused(caught.value)
    http = [e for e in guard.events if e.kind == "http"]
    assert http[0].host == "track.example.org"
    assert http[0].port == 8443
    assert b"GET /c?email=ann%40example.com" in http[0].payload


def test_requests_posts_are_seen_with_their_body() -> None:
    import requests

    with guarded() as guard, pytest.raises(requests.exceptions.ConnectionError):
        requests.post("http://crm.example.net/sync", json={"email": "ann@example.com"}, timeout=2)
    payloads = b"".join(e.payload for e in guard.events if e.kind == "http")
    assert b'"email": "ann@example.com"' in payloads


def test_httpx_is_seen_at_the_socket() -> None:
    import httpx

    with guarded() as guard, pytest.raises(httpx.ConnectError):
        httpx.get("https://api.example.com/v1", timeout=2)
    assert any(e.host == "api.example.com" for e in guard.events)


def test_loopback_and_unix_sockets_pass() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with guarded() as guard, socket.create_connection(server.getsockname(), timeout=2):
            pass
        with guarded() as guard2, socket.create_connection(("localhost", server.getsockname()[1])):
            pass
    with (
        guarded() as guard3,
        socket.socket(socket.AF_UNIX) as unix,
        pytest.raises(FileNotFoundError),
    ):
        unix.connect("/nonexistent/stexcel.sock")
    assert guard.events == guard2.events == guard3.events == []


def test_patches_are_undone() -> None:
    before = (socket.getaddrinfo, socket.socket.connect)
    with guarded():
        assert socket.getaddrinfo is not before[0]
    assert (socket.getaddrinfo, socket.socket.connect) == before


def test_aws_calls_are_judged_by_their_region_even_through_a_local_endpoint(s3_server: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, region_name="eu-central-1")
    with guarded() as guard:
        client.list_buckets()
    aws = [e for e in guard.events if e.kind == "aws"]
    assert aws[0].region == "eu-central-1"
    assert aws[0].host == "127.0.0.1"


def test_http_client_still_queues_headers_where_the_guard_reads_them() -> None:
    """The guard reads http.client's private header queue to see a request's line and
    headers before they are sent; if Python drops it, this fails rather than the guard
    quietly recording requests without them."""
    import http.client

    from pytest_stexcel_privacy.observe.egress import pending_header_lines

    conn = http.client.HTTPConnection("crm.example.net", 80)
    conn.putrequest("GET", "/c?email=ann%40example.com")
    conn.putheader("X-Who", "ann")
    lines = [
        line if isinstance(line, bytes) else line.encode() for line in pending_header_lines(conn)
    ]
    assert lines[0] == b"GET /c?email=ann%40example.com HTTP/1.1"
    assert b"X-Who: ann" in lines
