"""A loopback listener the egress guard is told to treat as a foreign host.

Egress probes must never let a packet leave the machine, even when the guard
misses them (on code that predates a fix, say). So each probe aims at this
post: TCP and UDP sockets on loopback, listed in the guard's ``outside``. A
guard that sees the attempt refuses it and nothing arrives; a guard that
misses it lets it through to a local socket, and the test sees it arrive.

Name lookups have no local equivalent, so :func:`no_lookup_escapes` adds a
last audit hook that refuses any lookup of a foreign name the guard let
through, with an error of its own that makes the test fail.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

HOST = "127.0.0.1"


@dataclass
class OutsidePost:
    tcp: socket.socket
    udp: socket.socket

    @property
    def tcp_address(self) -> tuple[str, int]:
        return HOST, int(self.tcp.getsockname()[1])

    @property
    def udp_address(self) -> tuple[str, int]:
        return HOST, int(self.udp.getsockname()[1])

    @property
    def endpoints(self) -> list[tuple[str, int | None]]:
        return [self.tcp_address, self.udp_address]

    def arrivals(self) -> list[str]:
        """What reached the post: connections waiting to be accepted, datagrams."""
        found = []
        self.tcp.setblocking(False)
        self.udp.setblocking(False)
        with suppress(BlockingIOError):
            while True:
                connection, peer = self.tcp.accept()
                connection.close()
                found.append(f"tcp connection from {peer}")
        with suppress(BlockingIOError):
            while True:
                data, peer = self.udp.recvfrom(65536)
                found.append(f"udp datagram {data!r} from {peer}")
        return found


@contextmanager
def outside_post() -> Iterator[OutsidePost]:
    with (
        socket.socket() as tcp,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
    ):
        tcp.bind((HOST, 0))
        tcp.listen(16)
        udp.bind((HOST, 0))
        yield OutsidePost(tcp, udp)


class LookupEscaped(AssertionError):
    """A lookup of a foreign name got past the egress guard (and was stopped here)."""


_watching = False
_installed = False


def _last_line_of_defence(event: str, args: tuple[Any, ...]) -> None:
    if not _watching:
        return
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        name = args[0].decode() if isinstance(args[0], bytes) else str(args[0] or "")
        if name and name not in ("localhost", HOST, "::1", socket.gethostname()):
            raise LookupEscaped(f"the guard let a lookup of {name!r} through")


@contextmanager
def no_lookup_escapes() -> Iterator[None]:
    """Stop any foreign name lookup the guard misses, in any thread, during the block."""
    global _installed, _watching
    if not _installed:
        from pytest_stexcel_privacy.observe.egress import EgressGuard

        EgressGuard().start().stop()  # the guard's hooks, if any, come first: they judge
        sys.addaudithook(_last_line_of_defence)
        _installed = True
    _watching = True
    try:
        yield
    finally:
        _watching = False
