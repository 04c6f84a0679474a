"""The sockets this process already holds connected to a peer.

Audit events and patches see a connection as it is made. A socket connected
before the guard started (a pool opened when the adapter was built, an
inherited descriptor) makes no event, nor does one connected by native code
that calls libc itself. Listing the process's sockets when a check starts and
again when it judges finds them while they are open.

Each descriptor in ``/proc/self/fd`` (Linux) or ``/dev/fd`` (macOS, the BSDs)
that is a socket is asked for its peer. That costs a few system calls per
descriptor, where reading ``/proc/net/tcp`` would cost a line per socket on
the whole machine. Elsewhere psutil answers, when it is installed.
"""

from __future__ import annotations

import _socket
import os
import socket
import stat
from dataclasses import dataclass

DESCRIPTOR_DIRECTORIES = ("/proc/self/fd", "/dev/fd")
IP_FAMILIES = (socket.AF_INET, socket.AF_INET6)


@dataclass(frozen=True)
class OpenSocket:
    """A socket of this process with a remote peer; ``key`` tells two sockets apart."""

    protocol: str
    host: str
    port: int
    key: str


def connected_sockets() -> list[OpenSocket] | str:
    """Every IP socket with a peer (loopback ones too), or why they cannot be listed."""
    for directory in DESCRIPTOR_DIRECTORIES:
        if os.path.isdir(directory):
            return _by_descriptor(directory)
    try:
        import psutil  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return (
            "the sockets open before the check cannot be listed here: no /proc/self/fd "
            "or /dev/fd, and psutil is not installed (pip install psutil)"
        )
    return _from_psutil(psutil)


def _by_descriptor(directory: str) -> list[OpenSocket]:
    found = []
    for name in os.listdir(directory):
        try:
            descriptor = int(name)
            if not stat.S_ISSOCK(os.fstat(descriptor).st_mode):
                continue
        except (ValueError, OSError):  # closed between the listing and the look
            continue
        peer = _peer(descriptor)
        if peer is not None:
            found.append(peer)
    return found


def _peer(descriptor: int) -> OpenSocket | None:
    try:
        sock = _socket.socket(fileno=descriptor)  # the C type: no enum conversions
    except OSError:
        return None
    try:
        if sock.family not in IP_FAMILIES:
            return None
        host, port = sock.getpeername()[:2]
        protocol = "udp" if sock.type == socket.SOCK_DGRAM else "tcp"
        return OpenSocket(protocol, str(host), int(port), f"fd {descriptor} to {host}:{port}")
    except OSError:  # not connected: listening, or an unconnected datagram socket
        return None
    finally:
        sock.detach()  # the descriptor is the module's: never close it


def _from_psutil(psutil: object) -> list[OpenSocket]:
    process = psutil.Process()  # type: ignore[attr-defined]
    listing = getattr(process, "net_connections", None) or process.connections
    found = []
    for connection in listing(kind="inet"):
        if not connection.raddr:
            continue
        protocol = "udp" if connection.type == socket.SOCK_DGRAM else "tcp"
        key = f"fd {connection.fd} to {connection.raddr.ip}:{connection.raddr.port}"
        found.append(OpenSocket(protocol, connection.raddr.ip, connection.raddr.port, key))
    return found
