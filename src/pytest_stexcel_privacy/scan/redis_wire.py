"""A batch of Redis commands packed into one write, the replies parsed by hiredis.

A scan sends a command or two for every key. redis-py's pipeline spends Python time
packing each command and parsing each reply (reading 300,000 keys took it four times
as long), and a read-only Lua script per batch costs the server about twice what the
commands alone do. Here a batch's commands are packed by one join, written to the socket of a
connection taken from redis-py's pool (so its handshake stands: TLS, AUTH,
SELECT, the client name), and read back by hiredis' reader. RESP2 only: under RESP3,
or without hiredis (or one too old), ``Wire.open`` answers None and the scanner uses
redis-py's pipeline.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

READ_SIZE = 1 << 20
_MORE = object()  # what the reader answers until a whole reply has arrived


def packed(command: bytes, keys: Sequence[bytes], *tail: bytes) -> bytes:
    """``command key *tail`` for each of ``keys``, in the protocol's framing: each key
    between the head for its length (most keys share a few lengths) and the tail."""
    head = b"*%d\r\n$%d\r\n%s\r\n" % (2 + len(tail), len(command), command)
    rest = b"\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in tail)
    heads: dict[int, bytes] = {}
    pieces: list[bytes] = [rest] * (3 * len(keys))
    pieces[0::3] = [
        heads.get(size) or heads.setdefault(size, b"%s$%d\r\n" % (head, size))
        for size in map(len, keys)
    ]
    pieces[1::3] = keys
    return b"".join(pieces)


class WireClosed(Exception):
    """The connection failed: closed, timed out, or a reply that is not the protocol."""


class Wire:
    """One connection of the scanner's own, written to and read from directly."""

    def __init__(
        self, pool: Any, connection: Any, sock: socket.socket, reader: Any, unparsable: Any
    ) -> None:
        self.pool = pool
        self.connection = connection
        self.sock = sock
        self.reader = reader
        self.unparsable = unparsable  # hiredis.ProtocolError
        self.buffer = bytearray(READ_SIZE)

    @classmethod
    def open(cls, client: Any) -> Wire | None:
        """A connection of ``client``'s pool, or None where this cannot read it."""
        try:
            import hiredis

            reader = hiredis.Reader(notEnoughData=_MORE)
        except (ImportError, TypeError):  # no hiredis, or one too old to take the marker
            return None
        pool = client.connection_pool
        try:
            connection = pool.get_connection()  # connected, its handshake done
        except TypeError:  # redis-py before 5.3 asks for a command's name
            connection = pool.get_connection("SCAN")
        sock = getattr(connection, "_sock", None)
        if str(getattr(connection, "protocol", 2) or 2) != "2" or not isinstance(
            sock, socket.socket
        ):
            pool.release(connection)  # untouched: the client may use it
            return None
        return cls(pool, connection, sock, reader, hiredis.ProtocolError)

    def close(self) -> None:
        """Give the connection back to the pool (a ``max_connections`` counts it),
        disconnected: a scan stopped early may have left replies unread on it."""
        self.connection.disconnect()
        self.pool.release(self.connection)

    def replies(self, commands: bytes, count: int) -> list[Any]:
        """Send ``commands`` and read their ``count`` replies; an error reply comes back as
        a ``hiredis.ReplyError`` in its place, for the caller to judge."""
        try:
            self.sock.sendall(commands)
            gets, feed, read = self.reader.gets, self.reader.feed, self.sock.recv_into
            out: list[Any] = []
            while True:
                out += iter(gets, _MORE)
                if len(out) >= count:
                    break
                size = read(self.buffer)
                if not size:
                    raise WireClosed("the server closed the connection")
                feed(self.buffer, 0, size)
        except (OSError, self.unparsable) as exc:  # socket.timeout included
            raise WireClosed(f"{type(exc).__name__}: {exc}") from exc
        if len(out) > count:
            raise WireClosed(f"{len(out) - count} replies more than the commands sent")
        return out
