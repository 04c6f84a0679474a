"""The egress guard: every outbound connection the module attempts, recorded and refused.

While a privacy check runs, the guard sits in front of ``socket.getaddrinfo``,
``socket.socket.connect``/``connect_ex`` (so raw sockets, urllib, requests,
httpx and database drivers are all seen), ``http.client`` (so the request
line, headers and body are seen before the connection is refused, even for
https) and botocore (so an AWS call's region is seen even when its endpoint
is a local stand-in such as moto). Loopback and Unix sockets pass: they are
our own sinks and local services. Anything else is recorded, then refused
with :class:`EgressRefused`; nothing leaves the machine.
"""

from __future__ import annotations

import http.client
import importlib.util
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .residency import is_loopback


class EgressRefused(ConnectionRefusedError):
    """Raised in the module in place of a real outbound connection."""


@dataclass(frozen=True)
class EgressEvent:
    kind: str  # "dns", "connect", "http", "aws"
    host: str
    port: int | None = None
    region: str | None = None  # when the client said (botocore)
    payload: bytes = b""  # request line, headers and body, when seen

    def describe(self) -> str:
        where = f"{self.host}:{self.port}" if self.port else self.host
        region = f" (region {self.region})" if self.region else ""
        return f"{self.kind} {where}{region}"


class EgressGuard:
    def __init__(self) -> None:
        self.events: list[EgressEvent] = []
        self._lock = threading.Lock()
        self._originals: list[tuple[Any, str, Any]] = []

    def record(self, event: EgressEvent) -> None:
        with self._lock:
            self.events.append(event)

    def mark(self) -> int:
        with self._lock:
            return len(self.events)

    def since(self, mark: int) -> list[EgressEvent]:
        with self._lock:
            return self.events[mark:]

    def refuse(self, host: str, port: int | None) -> EgressRefused:
        return EgressRefused(
            f"stexcel-privacy egress guard: outbound connection to {host}:{port} refused "
            "(privacy checks allow loopback only; the attempt is recorded for us-storage)"
        )

    # --- patches ------------------------------------------------------------------------

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._originals.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    def start(self) -> EgressGuard:
        guard = self
        original_getaddrinfo = socket.getaddrinfo
        original_connect = socket.socket.connect
        original_connect_ex = socket.socket.connect_ex
        original_endheaders = http.client.HTTPConnection.endheaders

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else str(host or "")
            if name and not is_loopback(name.lower().rstrip(".")):
                number = port if isinstance(port, int) else _int(port)
                guard.record(EgressEvent("dns", name.lower().rstrip("."), number))
                raise socket.gaierror(socket.EAI_NONAME, str(guard.refuse(name, number)))
            return original_getaddrinfo(host, port, *args, **kwargs)

        def outbound(sock: socket.socket, address: Any) -> tuple[str, int] | None:
            if sock.family not in (socket.AF_INET, socket.AF_INET6):
                return None  # Unix sockets and the like stay on this machine
            host, port = str(address[0]), int(address[1])
            return None if is_loopback(host) else (host, port)

        def connect(sock: socket.socket, address: Any) -> None:
            target = outbound(sock, address)
            if target is not None:
                guard.record(EgressEvent("connect", *target))
                raise guard.refuse(*target)
            original_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            target = outbound(sock, address)
            if target is not None:
                guard.record(EgressEvent("connect", *target))
                return 111  # ECONNREFUSED
            result: int = original_connect_ex(sock, address)
            return result

        def endheaders(
            conn: http.client.HTTPConnection, message_body: Any = None, **kw: Any
        ) -> None:
            host = str(conn.host).lower().rstrip(".")
            if not is_loopback(host):
                head = b"\r\n".join(
                    line if isinstance(line, bytes) else str(line).encode()
                    for line in conn._buffer  # type: ignore[attr-defined]
                )
                body = (
                    message_body
                    if isinstance(message_body, bytes)
                    else (message_body.encode() if isinstance(message_body, str) else b"")
                )
                guard.record(
                    EgressEvent("http", host, conn.port, payload=head + b"\r\n\r\n" + body)
                )
            original_endheaders(conn, message_body, **kw)

        self._patch(socket, "getaddrinfo", getaddrinfo)
        self._patch(socket.socket, "connect", connect)
        self._patch(socket.socket, "connect_ex", connect_ex)
        self._patch(http.client.HTTPConnection, "endheaders", endheaders)
        self._patch_urllib3()
        self._patch_botocore()
        return self

    def _patch_urllib3(self) -> None:
        """urllib3 (requests, botocore) sends the body after the headers: see it up front."""
        if importlib.util.find_spec("urllib3") is None:
            return
        import urllib3.connection

        guard = self
        original = urllib3.connection.HTTPConnection.request

        def request(conn: Any, method: str, url: str, body: Any = None, *a: Any, **kw: Any) -> Any:
            host = str(conn.host).lower().rstrip(".")
            if not is_loopback(host):
                data = body if isinstance(body, bytes) else str(body or "").encode()
                line = f"{method} {url}".encode()
                guard.record(
                    EgressEvent("http", host, conn.port, payload=line + b"\r\n\r\n" + data)
                )
            return original(conn, method, url, body, *a, **kw)

        self._patch(urllib3.connection.HTTPConnection, "request", request)

    def _patch_botocore(self) -> None:
        if importlib.util.find_spec("botocore") is None:
            return
        import botocore.endpoint

        guard = self
        original = botocore.endpoint.Endpoint.make_request

        def make_request(endpoint: Any, operation_model: Any, request_dict: Any) -> Any:
            context = request_dict.get("context", {})
            url = str(request_dict.get("url", ""))
            from urllib.parse import urlsplit

            parts = urlsplit(url)
            body = request_dict.get("body") or b""
            payload = (
                url.encode()
                + b"\r\n\r\n"
                + (body if isinstance(body, bytes) else str(body).encode())
            )
            guard.record(
                EgressEvent(
                    "aws",
                    (parts.hostname or "").lower(),
                    parts.port,
                    region=context.get("client_region"),
                    payload=payload,
                )
            )
            return original(endpoint, operation_model, request_dict)

        self._patch(botocore.endpoint.Endpoint, "make_request", make_request)

    def stop(self) -> None:
        while self._originals:
            owner, name, original = self._originals.pop()
            setattr(owner, name, original)


@contextmanager
def guarded() -> Iterator[EgressGuard]:
    guard = EgressGuard().start()
    try:
        yield guard
    finally:
        guard.stop()


def refused(error: BaseException | None) -> bool:
    """Whether ``error`` was, or was caused by, the guard refusing a connection."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, EgressRefused) or "egress guard" in str(error):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _int(port: Any) -> int | None:
    try:
        return int(port)
    except (TypeError, ValueError):
        return None
