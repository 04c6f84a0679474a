"""What the suite's own S3 server changed, so a scan can prove a bucket or an object as
it was when last read.

Every request that may change something (anything but GET, HEAD and OPTIONS) is
counted as it starts and as it ends, so a change in flight while a scan reads
shows too. A PUT or DELETE that names exactly one object, path-style on the
server's own address with a key of plain characters, is also counted for that
object (its tags, its new version); every other change (a bucket's, a batch
delete, a multipart upload, a key the path may spell otherwise) counts for every
object. A witness taken before a read that is the same after it proves nothing
was changed through this server in between.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Keys whose path spells them one way only (no escapes, no characters a client encodes).
PLAIN_KEY = re.compile(r"[A-Za-z0-9._\-/]+")


# Each server's counts start at zero: a witness names its server too, so that a server
# started later on the same port (another pytester run's) never matches an earlier one's.
_SERVER_NUMBERS = itertools.count(1)


class ServedChanges:
    def __init__(self, host: str) -> None:
        self.host = host  # "127.0.0.1:port": a request addressed otherwise counts everywhere
        self.number = next(_SERVER_NUMBERS)
        self.total = 0
        self.everywhere = 0
        self.by_object: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def witness(self) -> tuple[int, int]:
        """This server, and its changes to anything so far."""
        with self._lock:
            return self.number, self.total

    def object_witness(self, bucket: str, key: str) -> tuple[int, int, int]:
        """This server, and its changes so far that may have touched ``key`` in ``bucket``."""
        with self._lock:
            return self.number, self.everywhere, self.by_object.get((bucket, key), 0)

    def counting(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Any]:
        """``app`` (the server's WSGI application), counting the changes it serves."""

        def counted_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            method = str(environ.get("REQUEST_METHOD", "GET")).upper()
            if method in READ_ONLY_METHODS:
                return app(environ, start_response)
            target = self._object_of(method, environ)
            self._count(target)
            try:
                return list(app(environ, start_response))  # the change is made by now
            finally:
                self._count(target)

        return counted_app

    def _object_of(self, method: str, environ: dict[str, Any]) -> tuple[str, str] | None:
        """The one object a request changes, or None when it may change more."""
        path = str(environ.get("PATH_INFO", ""))
        if method not in ("PUT", "DELETE") or environ.get("HTTP_HOST") != self.host:
            return None
        bucket, _, key = path.removeprefix("/").partition("/")
        if not bucket or not key or PLAIN_KEY.fullmatch(f"{bucket}/{key}") is None:
            return None
        return bucket, key

    def _count(self, target: tuple[str, str] | None) -> None:
        with self._lock:
            self.total += 1
            if target is None:
                self.everywhere += 1
            else:
                self.by_object[target] = self.by_object.get(target, 0) + 1


# endpoint URL -> what the suite's server there has changed, while it runs
_SERVERS: dict[str, ServedChanges] = {}
_SERVERS_LOCK = threading.Lock()


def served_changes(endpoint: str | None) -> ServedChanges | None:
    """The changes the suite's own S3 server at ``endpoint`` served; None for any other
    endpoint, of which nothing is proven."""
    with _SERVERS_LOCK:
        return _SERVERS.get((endpoint or "").rstrip("/"))


def register(endpoint: str, changes: ServedChanges) -> None:
    with _SERVERS_LOCK:
        _SERVERS[endpoint] = changes


def unregister(endpoint: str) -> None:
    with _SERVERS_LOCK:
        _SERVERS.pop(endpoint, None)
