"""Where "outside" begins for the egress guard: anything but this machine.

An address is inside when it is loopback (``127.0.0.0/8``, ``::1``, an IPv4
address mapped into IPv6, ``localhost`` names), the unspecified address (which
the kernel routes to this host), this machine's own host name or a Unix or
netlink socket. Everything else,
including address families the guard cannot read, is outside: what cannot be
placed is never assumed local.

A test can move the boundary: endpoints listed in ``Boundary.extra`` count as
outside although they are loopback. A probe then talks to a local listener the
guard must treat as a foreign host, so if the guard misses the attempt no
packet can leave the machine.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .residency import is_loopback

# Families whose addresses never leave the machine.
LOCAL_FAMILIES = frozenset(
    getattr(socket, name) for name in ("AF_UNIX", "AF_NETLINK") if hasattr(socket, name)
)
IP_FAMILIES = frozenset({socket.AF_INET, socket.AF_INET6})
AF_PACKET: int | None = getattr(socket, "AF_PACKET", None)


def normalise(host: str | bytes) -> str:
    """Lower-cased, without trailing dot, brackets or IPv6 zone; mapped IPv4 unwrapped."""
    text = host.decode("utf-8", "replace") if isinstance(host, bytes) else str(host)
    text = text.strip().strip("[]").lower().rstrip(".")
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def is_address(host: str) -> bool:
    """Whether ``host`` is an IP address literal (resolving one asks no server)."""
    try:
        ipaddress.ip_address(normalise(host))
    except ValueError:
        return False
    return True


@functools.cache
def own_names() -> frozenset[str]:
    """This machine's host name: ``socket.getfqdn`` (smtplib's greeting) looks it up."""
    name = socket.gethostname().lower().rstrip(".")
    return frozenset({name, name.split(".", 1)[0]} - {""})


def is_this_machine(host: str) -> bool:
    """Whether a normalised host is loopback, the unspecified address or this machine's name."""
    if is_loopback(host) or host in own_names():
        return True
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


@dataclass(frozen=True)
class Boundary:
    """Judges hosts and endpoints: inside (this machine) or outside."""

    extra: frozenset[tuple[str, int | None]] = field(default_factory=frozenset)

    @classmethod
    def moved(cls, outside: Iterable[tuple[str, int | None]]) -> Boundary:
        return cls(frozenset((normalise(host), port) for host, port in outside))

    def is_outside(self, host: str, port: int | None = None) -> bool:
        name = normalise(host)
        if (name, port) in self.extra or (name, None) in self.extra:
            return True
        return not is_this_machine(name)

    def as_list(self) -> list[list[Any]]:
        """JSON-safe, for a child process to rebuild the same boundary."""
        return sorted([host, port] for host, port in self.extra)


def destination(family: int | None, address: Any) -> tuple[str, int | None] | None:
    """``(host, port)`` a socket address reaches, or None for families that stay local.

    Unreadable addresses and unknown families come back as a description with no
    port, which every boundary judges outside.
    """
    if family in LOCAL_FAMILIES or (isinstance(address, (str, bytes)) and family is None):
        return None
    if family == AF_PACKET:
        interface = str(address[0]) if isinstance(address, tuple) and address else "?"
        return None if interface == "lo" else (f"interface {interface}", None)
    readable = isinstance(address, tuple) and len(address) >= 2
    if (family in IP_FAMILIES or family is None) and readable:
        host, port = address[0], address[1]
        if isinstance(host, (str, bytes, bytearray)):
            return normalise(bytes(host) if isinstance(host, bytearray) else host), _port(port)
    return (f"family {family} address {address!r:.80}", None)


def _port(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
