"""The egress guard: every way out the module tries, recorded and refused.

While a privacy check runs, the guard watches at three depths:

- the audit hook (:mod:`.audit`), raised from C: every socket connect, send-to,
  packet-socket bind and name lookup, whatever Python called it; every process
  start; every libc network function looked up through ctypes;
- patches, for attribution: ``http.client`` and urllib3 (so a request's line,
  headers and body are seen before its connection is refused, even for https),
  botocore (so an AWS call's region is seen even through a local stand-in such
  as moto), and ``socket``'s connect, connect_ex and getaddrinfo;
- listings: sockets already connected when the check starts and when it is
  judged (:mod:`.open_sockets`), threads the module started
  (:mod:`.module_threads`), child processes (:mod:`.child_processes`).

Loopback, Unix and netlink sockets pass: they are our own sinks and local
services (and are noted, so a check can prove the guard saw the module
connect at all). Anything else is recorded, then refused with
:class:`EgressRefused`. What the guard could not see is recorded too (a
process it cannot look into, a thread still running, a layer unavailable here),
so a check can refuse to pass over it: see :func:`blind_spots`.
"""

from __future__ import annotations

import base64
import http.client
import importlib.util
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import audit, child_reports, native_calls, open_sockets
from .boundary import Boundary, destination, is_address, normalise
from .child_processes import ChildEnvironment, ProcessStart, describe_guard
from .module_threads import ModuleThreads

# Destinations: each was recorded because it is outside (``aws``: judged by its region).
DNS, CONNECT, SEND, HTTP, AWS = "dns", "connect", "send", "http", "aws"
NATIVE, BIND = "native", "bind"
OPEN_BEFORE_START, OPEN_AT_VERDICT = "open-before-start", "open-at-verdict"
DESTINATION_KINDS = frozenset(
    {DNS, CONNECT, SEND, HTTP, AWS, NATIVE, BIND, OPEN_BEFORE_START, OPEN_AT_VERDICT}
)
# What the guard saw of processes: a fork inherits the guard; a guarded child reported in.
PROCESS, FORK, GUARDED_CHILD = "process", "fork", "guarded-child"
# What the guard could not see.
THREAD, BLIND = "thread", "blind"

# How long a verdict waits for the module's threads and children to finish.
SETTLE_SECONDS = 2.0

# One look for the process: whether a module holds a network function resolved earlier.
HELD_FUNCTIONS = native_calls.HeldFunctionsLook()


class EgressRefused(ConnectionRefusedError):
    """Raised in the module in place of a real outbound connection."""


class LookupRefused(EgressRefused, socket.gaierror):
    """A refused name lookup: code catching ``socket.gaierror`` sees a name that does
    not resolve."""


@dataclass(frozen=True)
class EgressEvent:
    kind: str  # one of the kinds above
    host: str  # the destination; a process's executable; a thread's name
    port: int | None = None
    region: str | None = None  # when the client said (botocore)
    payload: bytes = b""  # request line, headers and body, when seen
    detail: str = ""  # how it was seen, when the kind alone does not say
    argv: tuple[str, ...] = ()  # a process's command line
    pid: int | None = None  # the child process that saw it; None for this one

    def describe(self) -> str:
        where = f"{self.host}:{self.port}" if self.port else self.host
        region = f" (region {self.region})" if self.region else ""
        detail = f" ({self.detail})" if self.detail else ""
        child = f" in child process {self.pid}" if self.pid else ""
        if self.kind == PROCESS:
            return f"process {ProcessStart(self.detail, self.host, self.argv).describe()}{child}"
        if self.kind == THREAD:
            return f"thread {self.host!r} was still running{detail}"
        if self.kind == BLIND:
            return self.detail
        if self.kind == NATIVE:
            return f"native call: {self.detail}{child}"
        return f"{self.kind} {where}{region}{detail}{child}"

    def to_record(self) -> dict[str, Any]:
        """JSON-safe fields, for a child's report to the parent."""
        return {
            "kind": self.kind,
            "host": self.host,
            "port": self.port,
            "region": self.region,
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "detail": self.detail,
            "argv": list(self.argv),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any], pid: int) -> EgressEvent:
        """The event a child reported; ``ValueError`` when the record is malformed."""
        try:
            port, region = record["port"], record["region"]
            event = cls(
                str(record["kind"]),
                str(record["host"]),
                None if port is None else int(port),
                None if region is None else str(region),
                base64.b64decode(str(record["payload"]), validate=True),
                str(record["detail"]),
                tuple(str(part) for part in record["argv"]),
                pid,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed event {record!r:.120}: {exc}") from None
        return event


class EgressGuard:
    """Records, then refuses, every way out that is not this machine.

    ``outside`` moves the boundary for tests: those loopback endpoints (``(host,
    port)``, port None for every port) count as outside. ``report_to`` is for a
    child process: events go to the parent's report directory instead.
    """

    def __init__(
        self,
        outside: Iterable[tuple[str, int | None]] = (),
        *,
        report_to: Path | None = None,
    ) -> None:
        self.boundary = Boundary.moved(outside)
        self.local_connections: list[tuple[str, int | None]] = []
        self._events: list[EgressEvent] = []
        self._lock = threading.Lock()
        self._collecting = threading.Lock()
        self._originals: list[tuple[Any, str, Any]] = []
        self._writer = child_reports.ReportWriter(report_to) if report_to else None
        self._reader: child_reports.ReportReader | None = None
        self._environment: ChildEnvironment | None = None
        self._threads = ModuleThreads()
        self._sockets_reported: set[str] = set()
        self._sockets_unlisted = False

    # --- what was seen ------------------------------------------------------------------

    @property
    def events(self) -> list[EgressEvent]:
        self._collect_children()
        return self._events

    def record(self, event: EgressEvent) -> None:
        if self._writer is not None:
            self._writer.write(event.to_record())
            return
        with self._lock:
            self._events.append(event)

    def mark(self) -> int:
        return len(self.events)

    def since(self, mark: int) -> list[EgressEvent]:
        events = self.events
        with self._lock:
            return events[mark:]

    def local_mark(self) -> int:
        with self._lock:
            return len(self.local_connections)

    def local_since(self, mark: int) -> list[tuple[str, int | None]]:
        """Connections to this machine (the module's store, mail and provider sinks)."""
        with self._lock:
            return self.local_connections[mark:]

    def is_outside(self, host: str, port: int | None = None) -> bool:
        return self.boundary.is_outside(host, port)

    def refuse(self, host: str, port: int | None, kind: str = CONNECT) -> EgressRefused:
        what = "name lookup of" if kind == DNS else "outbound connection to"
        where = f"{host}:{port}" if port is not None else host or "an unknown destination"
        message = (
            f"stexcel-privacy egress guard: {what} {where} refused (privacy checks allow "
            "loopback only; the attempt is recorded for us-storage)"
        )
        if kind == DNS:
            return LookupRefused(socket.EAI_NONAME, message)
        return EgressRefused(message)

    # --- the audit hook's side (observe/audit.py) --------------------------------------

    def attempt(
        self, kind: str, host: str, port: int | None, detail: str = ""
    ) -> BaseException | None:
        if kind == NATIVE:  # no destination the guard could judge
            self.record(EgressEvent(NATIVE, "", detail=detail))
            return self.refuse("", None, kind)
        name = normalise(host)
        if self.boundary.is_outside(name, port):
            self.record(EgressEvent(kind, name, port, detail=detail))
            return self.refuse(name, port, kind)
        if kind in (CONNECT, SEND):
            with self._lock:
                self.local_connections.append((name, port))
        return None

    def started_process(self, how: str, executable: str, argv: tuple[str, ...]) -> None:
        kind = FORK if how in ("os.fork", "os.forkpty") else PROCESS
        self.record(EgressEvent(kind, executable, detail=how, argv=argv))

    def unreadable(self, event: str, error: Exception) -> None:
        detail = f"the guard could not read a {event} event ({error!r}); what it did is unknown"
        self.record(EgressEvent(BLIND, "", detail=detail))

    def forked(self) -> None:
        """In a forked child: the parent's guard lives on here, reporting to the parent."""
        self._lock = threading.Lock()  # another thread may have held it at the fork
        if self._writer is None:
            self._writer = child_reports.ReportWriter(child_reports.directory())
        self._reader = None
        self._environment = None

    # --- starting, settling, stopping ---------------------------------------------------

    def start(self) -> EgressGuard:
        with audit.quietly():  # the guard's own files and look-ups are not the module's
            if self._writer is None:
                self._reader = child_reports.ReportReader(child_reports.directory())
                self._reader.skip_to_end()  # children of checks already judged
                self._environment = ChildEnvironment(
                    describe_guard(self.boundary.as_list(), child_reports.directory())
                )
                self._environment.apply()
            self._report_open_sockets(OPEN_BEFORE_START)
            for held in HELD_FUNCTIONS.held(watched=audit.installed()):
                self.record(
                    EgressEvent(
                        BLIND,
                        "",
                        detail=f"{held} is a libc network function resolved through ctypes "
                        "before the check began; calls through it are invisible",
                    )
                )
            self._threads.begin()
        self._patch_sockets()
        self._patch_threads()
        self._patch_http_client()
        self._patch_urllib3()
        self._patch_botocore()
        if not audit.install():
            self.record(
                EgressEvent(
                    BLIND,
                    "",
                    detail="this interpreter refused the egress guard's audit hook, so "
                    "connections made below Python's socket module cannot be seen",
                )
            )
        audit.listen(self)
        return self

    def settle(self, allowed: Sequence[str] = (), grace: float = SETTLE_SECONDS) -> None:
        """Before a verdict: wait for the module's threads and children, then record what
        still cannot be judged (``allowed``: programs the adapter vouches for)."""
        deadline = time.monotonic() + grace
        for name in self._threads.still_running(deadline):
            self.record(
                EgressEvent(
                    THREAD,
                    name,
                    detail="the module started it during the check; what it sends after "
                    "the verdict cannot be judged",
                )
            )
        while unseen_processes(self.events, allowed) and time.monotonic() < deadline:
            time.sleep(0.02)  # a child may not have reported yet
        with audit.quietly():
            self._report_open_sockets(OPEN_AT_VERDICT)

    def stop(self) -> None:
        audit.unlisten(self)
        while self._originals:
            owner, name, original = self._originals.pop()
            setattr(owner, name, original)
        if self._environment is not None:
            self._environment.restore()
            self._environment = None

    # --- listings -----------------------------------------------------------------------

    def _report_open_sockets(self, kind: str) -> None:
        listing = open_sockets.connected_sockets()
        if isinstance(listing, str):
            if not self._sockets_unlisted:
                self._sockets_unlisted = True
                self.record(EgressEvent(BLIND, "", detail=listing))
            return
        for found in listing:
            if found.key in self._sockets_reported:
                continue
            host = normalise(found.host)
            if self.boundary.is_outside(host, found.port):
                self._sockets_reported.add(found.key)
                self.record(EgressEvent(kind, host, found.port, detail=f"{found.protocol} socket"))

    def _collect_children(self) -> None:
        if self._reader is None:
            return
        with self._collecting, audit.quietly():
            reports = self._reader.read()
        for report in reports:
            if isinstance(report, child_reports.Unreadable):
                event = EgressEvent(
                    BLIND, "", detail=f"a child's report {report.source}: {report.reason}"
                )
            else:
                pid, record = report
                try:
                    event = EgressEvent.from_record(record, pid)
                except ValueError as exc:
                    event = EgressEvent(BLIND, "", detail=f"child process {pid}: {exc}")
            self.record(event)

    # --- patches ------------------------------------------------------------------------

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._originals.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    def _patch_sockets(self) -> None:
        """Refused in Python before C sees them, with the errors callers expect."""
        guard = self
        original_getaddrinfo = socket.getaddrinfo
        original_connect = socket.socket.connect
        original_connect_ex = socket.socket.connect_ex

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host and not is_address(normalise(host)):  # a literal asks no server
                name = normalise(host)
                number = port if isinstance(port, int) else _int(port)
                if guard.is_outside(name, number):
                    guard.record(EgressEvent(DNS, name, number))
                    raise guard.refuse(name, number, DNS)
            return original_getaddrinfo(host, port, *args, **kwargs)

        def outbound(sock: socket.socket, address: Any) -> tuple[str, int | None] | None:
            target = destination(int(sock.family), address)
            return target if target is not None and guard.is_outside(*target) else None

        def connect(sock: socket.socket, address: Any) -> None:
            target = outbound(sock, address)
            if target is not None:
                guard.record(EgressEvent(CONNECT, *target))
                raise guard.refuse(*target)
            original_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            target = outbound(sock, address)
            if target is not None:
                guard.record(EgressEvent(CONNECT, *target))
                return 111  # ECONNREFUSED
            result: int = original_connect_ex(sock, address)
            return result

        self._patch(socket, "getaddrinfo", getaddrinfo)
        self._patch(socket.socket, "connect", connect)
        self._patch(socket.socket, "connect_ex", connect_ex)

    def _patch_threads(self) -> None:
        threads = self._threads
        original_start = threading.Thread.start

        def start(thread: threading.Thread) -> None:
            threads.note_start(thread)
            original_start(thread)

        self._patch(threading.Thread, "start", start)

    def _patch_http_client(self) -> None:
        guard = self
        original_endheaders = http.client.HTTPConnection.endheaders

        def endheaders(
            conn: http.client.HTTPConnection, message_body: Any = None, **kw: Any
        ) -> None:
            host = normalise(str(conn.host))
            if guard.is_outside(host, conn.port):
                head = b"\r\n".join(
                    line if isinstance(line, bytes) else str(line).encode()
                    for line in pending_header_lines(conn)
                )
                body = (
                    message_body
                    if isinstance(message_body, bytes)
                    else (message_body.encode() if isinstance(message_body, str) else b"")
                )
                guard.record(EgressEvent(HTTP, host, conn.port, payload=head + b"\r\n\r\n" + body))
            original_endheaders(conn, message_body, **kw)

        self._patch(http.client.HTTPConnection, "endheaders", endheaders)

    def _client_library(self, name: str) -> bool:
        """Whether to patch ``name``: if installed; in a child, only if already imported
        (importing it would slow every Python the module starts)."""
        if self._writer is not None:
            return name in sys.modules
        return importlib.util.find_spec(name) is not None

    def _patch_urllib3(self) -> None:
        """urllib3 (requests, botocore) sends the body after the headers: see it up front."""
        if not self._client_library("urllib3"):
            return
        import urllib3.connection

        guard = self
        original = urllib3.connection.HTTPConnection.request

        def request(conn: Any, method: str, url: str, body: Any = None, *a: Any, **kw: Any) -> Any:
            host = normalise(str(conn.host))
            if guard.is_outside(host, conn.port):
                data = body if isinstance(body, bytes) else str(body or "").encode()
                line = f"{method} {url}".encode()
                guard.record(EgressEvent(HTTP, host, conn.port, payload=line + b"\r\n\r\n" + data))
            return original(conn, method, url, body, *a, **kw)

        self._patch(urllib3.connection.HTTPConnection, "request", request)

    def _patch_botocore(self) -> None:
        if not self._client_library("botocore"):
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
                    AWS,
                    (parts.hostname or "").lower(),
                    parts.port,
                    region=context.get("client_region"),
                    payload=payload,
                )
            )
            return original(endpoint, operation_model, request_dict)

        self._patch(botocore.endpoint.Endpoint, "make_request", make_request)


def unseen_processes(events: Sequence[EgressEvent], allowed: Sequence[str] = ()) -> list[str]:
    """Processes started whose network the guard cannot see, each described."""
    guarded = [event.argv for event in events if event.kind == GUARDED_CHILD]
    unseen = []
    for event in events:
        if event.kind != PROCESS:
            continue
        start = ProcessStart(event.detail, event.host, event.argv)
        if not start.reported_by(guarded) and not start.allowed_by(allowed):
            unseen.append(start.describe())
    return unseen


def blind_spots(events: Sequence[EgressEvent], allowed: Sequence[str] = ()) -> list[str]:
    """What the guard could not see, each in a sentence; empty when it saw everything.

    A process is unseen unless it reported in as a guarded Python or its
    program is in ``allowed``; a thread still running and a layer unavailable
    here are unseen too.
    """
    spots = [
        f"cannot see this process's network: {process}"
        for process in unseen_processes(events, allowed)
    ]
    spots += [event.describe() for event in events if event.kind in (THREAD, BLIND)]
    return list(dict.fromkeys(spots))


@contextmanager
def guarded(outside: Iterable[tuple[str, int | None]] = ()) -> Iterator[EgressGuard]:
    guard = EgressGuard(outside).start()
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


def pending_header_lines(conn: http.client.HTTPConnection) -> list[bytes | str]:
    """The request line and headers ``conn`` has queued but not yet sent.

    ``http.client`` keeps them in the private ``_buffer`` until ``endheaders``;
    no public API shows them. Without it (a future Python) the event keeps
    its host, port and body, and ``tests/test_egress.py`` fails loudly.
    """
    return list(getattr(conn, "_buffer", []))
