"""A loopback HTTP server standing in for the module's service providers.

The module under test is configured to call its providers (mailing list,
analytics, payment ...) at ``sink.url_for(name)``; the sink answers every
request with ``200 {"ok": true, "access_token": ...}`` and records it, so the
``deletion-processors`` check can prove that each provider was told to delete,
and ``third-party-sharing`` what each received. The token is minted for that
answer alone, as a site's OAuth token endpoint would: a module that keeps the
token of a connected site keeps a value the suite can search every store for
(``account-disconnect``).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import unquote_plus

from ..errors import RequestUnreadable
from ..findings.evidence import PROVIDERS, Evidence
from ..findings.masking import mask
from ..people.needles import Needle
from . import quiescence
from .http_body import MAX_BODY_BYTES, BodyUnreadable, decoded, read_body

# Tokens the sink hands out start with this, so a report reader knows one when masked.
TOKEN_PREFIX = "stxtok"
# How long the sink reads on after a body it could not read, so its answer arrives: in
# all, and once the client has paused sending.
DRAIN_SECONDS = 2.0
DRAIN_PAUSE_SECONDS = 0.2


class NeedleSearch(Protocol):
    """What a request is searched with: ``scan.matcher.NeedleMatcher``, a layer above."""

    def strongest(self, data: bytes) -> Needle | None: ...
    def matches(self, data: bytes) -> bool: ...


@dataclass(frozen=True)
class RecordedRequest:
    index: int
    method: str
    path: str  # path and query string, as sent
    headers: dict[str, str]
    body: bytes  # as sent, its chunks joined
    token: str = ""  # the access token the sink answered this request with
    unreadable: str = ""  # why the body could not be read, if it could not

    @cached_property
    def content(self) -> bytes:
        """The body as the provider reads it: its ``Content-Encoding`` undone. Raises
        ``RequestUnreadable`` for a body the sink could not read or undo."""
        try:
            if self.unreadable:
                raise BodyUnreadable(self.unreadable)
            return decoded(self.headers, self.body)
        except BodyUnreadable as exc:
            raise RequestUnreadable(
                f"the module's request {self.method} {self.path} to a provider could not be "
                f"read ({exc}), so what it carried is unknown"
            ) from None

    @cached_property
    def searchable(self) -> bytes:
        """Everything the request carried, with URL encoding undone once (in the path)
        and the body's transfer and content codings undone."""
        head = f"{self.method} {self.path}\n{unquote_plus(self.path)}\n"
        head += "".join(f"{k}: {v}\n" for k, v in self.headers.items())
        return head.encode("utf-8", "surrogateescape") + self.content

    def evidence(self, matcher: NeedleSearch) -> Evidence | None:
        """What of the matcher's persons this request carried, or None."""
        needle = matcher.strongest(self.searchable)
        if needle is None:
            return None
        path = self.path
        if matcher.matches(path.encode("utf-8", "surrogateescape")):
            path = mask(path)  # personal data in the URL itself
        return Evidence(
            text=f"sent to a provider: {self.method} {path} carrying {needle.field} as "
            f"{needle.form} {mask(needle.text)!r}",
            location=f"{self.method} {path}",
            store=PROVIDERS,
            field=needle.field,
            form=needle.form,
            value=mask(needle.text),
        )


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _record(self) -> None:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():  # a header sent twice: both values
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        try:
            body, unreadable = read_body(headers, self.rfile), ""
        except BodyUnreadable as exc:
            # kept, so the checks that search it say it was unreadable; the rest of the
            # connection cannot be trusted as a next request
            body, unreadable = b"", str(exc)
            self.close_connection = True
            self._drain()
        token = self.server.sink._record(self.command, self.path, headers, body, unreadable)
        answer = {"ok": True, "access_token": token, "token_type": "Bearer"}
        payload = json.dumps(answer).encode("ascii")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":  # its answer has the headers of a GET's, and no body
            self.wfile.write(payload)

    def _drain(self) -> None:
        """Read what the client still sends of a body given up on, within bounds: a
        socket closed with data unread resets the connection, and the module would see
        that, not the answer."""
        deadline = time.monotonic() + DRAIN_SECONDS
        left = MAX_BODY_BYTES
        try:
            while left > 0 and (wait := deadline - time.monotonic()) > 0:
                self.connection.settimeout(min(wait, DRAIN_PAUSE_SECONDS))
                data = self.rfile.read1(min(left, 1 << 16))
                if not data:
                    return
                left -= len(data)
        except OSError:  # the timeout included: the client sent no more
            pass

    # Every method a client may send a provider is recorded and answered: one refused (the
    # standard library's 501) would fail a correct module's call, not the provider's.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _record

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest's captured output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sink: ProcessorSink) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.sink = sink


class ProcessorSink:
    def __init__(self) -> None:
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Condition()
        self._server = _Server(self)

    def start(self) -> ProcessorSink:
        quiescence.serve_in_background(self._server, "stexcel-processor-sink")
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url_for(self, provider: str) -> str:
        """The base URL to configure for one provider, e.g. ``sink.url_for("mailing")``."""
        return f"{self.url}/{provider.strip('/')}"

    def _record(
        self, method: str, path: str, headers: dict[str, str], body: bytes, unreadable: str = ""
    ) -> str:
        """Keep the request; return the token it is answered with (never seen before)."""
        token = TOKEN_PREFIX + secrets.token_hex(16)
        with self._lock:
            index = len(self._requests)
            self._requests.append(
                RecordedRequest(index, method, path, headers, body, token, unreadable)
            )
            self._lock.notify_all()
        return token

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def mark(self) -> int:
        """A bookmark: ``since(mark)`` returns only requests recorded after it."""
        with self._lock:
            return len(self._requests)

    def since(self, mark: int) -> list[RecordedRequest]:
        with self._lock:
            return self._requests[mark:]

    def wait_for(
        self, predicate: Callable[[list[RecordedRequest]], bool], mark: int, timeout: float
    ) -> list[RecordedRequest]:
        """Requests since ``mark``, waiting up to ``timeout`` for ``predicate`` to hold.

        Providers are often called from a background queue; this is a bound on
        how long to wait for one, not a performance assertion.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self._requests[mark:]):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
            return self._requests[mark:]
