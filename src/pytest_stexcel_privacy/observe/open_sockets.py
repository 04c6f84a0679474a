"""The sockets this process already holds connected to a peer.

Audit events and patches see a connection as it is made. A socket connected
before the guard started (a pool opened when the adapter was built, an
inherited descriptor) makes no event, nor does one connected by native code
that calls libc itself. Listing the process's sockets when a check starts and
again when it judges finds them while they are open: on Linux from ``/proc``
(each descriptor's socket inode looked up in ``/proc/self/net/{tcp,tcp6,udp,
udp6}``), elsewhere through psutil when it is installed.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

PROC_TABLES = ("tcp", "tcp6", "udp", "udp6")
TCP_LISTEN = "0A"


@dataclass(frozen=True)
class OpenSocket:
    """A socket of this process with a remote peer; ``key`` tells two sockets apart."""

    protocol: str
    host: str
    port: int
    key: str


def connected_sockets() -> list[OpenSocket] | str:
    """Every socket with a peer (loopback ones too), or why they cannot be listed."""
    if Path("/proc/self/fd").is_dir() and Path("/proc/self/net/tcp").exists():
        return _from_proc()
    try:
        import psutil  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return (
            "the sockets open before the check cannot be listed here: no /proc, and psutil "
            "is not installed (pip install psutil)"
        )
    return _from_psutil(psutil)


def _socket_inodes() -> set[str]:
    inodes = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # closed between the listing and the look
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _from_proc() -> list[OpenSocket]:
    inodes = _socket_inodes()
    found: list[OpenSocket] = []
    if not inodes:
        return found
    for table in PROC_TABLES:
        try:
            lines = Path(f"/proc/self/net/{table}").read_text().splitlines()[1:]
        except OSError:  # IPv6 disabled, for one
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[9] not in inodes:
                continue
            if table.startswith("tcp") and fields[3] == TCP_LISTEN:
                continue
            host, port = _decode_proc_address(fields[2])
            if port:
                found.append(OpenSocket(table, host, port, f"inode {fields[9]}"))
    return found


def _decode_proc_address(text: str) -> tuple[str, int]:
    """``0100007F:1F90`` -> ("127.0.0.1", 8080): words in host byte order, port in hex."""
    address, _, port = text.partition(":")
    words = [int(address[i : i + 8], 16) for i in range(0, len(address), 8)]
    raw = struct.pack(f"={len(words)}I", *words)
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, raw), int(port or "0", 16)


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
