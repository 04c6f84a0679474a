"""moto's S3 server on loopback, for modules and tests that keep data in buckets.

Real HTTP on 127.0.0.1 (moto's server mode), not an in-process mock: the
module's own boto3 client talks to it like to AWS. Credentials are set to
dummies for the server's lifetime unless the environment already has some.

Every request that may change a bucket (anything but GET, HEAD and OPTIONS) is
counted as it starts and as it ends, so the scanner can prove that nothing
changed since its last scan (``changes_served``) and skip reading it again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from . import quiescence

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# endpoint URL -> the changing requests it has started and ended, while it runs
_CHANGES: dict[str, list[int]] = {}
_CHANGES_LOCK = threading.Lock()


def changes_served(endpoint: str | None) -> int | None:
    """How many times a request that may change a bucket started or ended on the suite's
    own S3 server at ``endpoint``; None for any other endpoint (nothing is proven)."""
    with _CHANGES_LOCK:
        counted = _CHANGES.get((endpoint or "").rstrip("/"))
        return None if counted is None else counted[0]


def _counting(app: Callable[..., Iterable[bytes]], counted: list[int]) -> Callable[..., Any]:
    def counted_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        changing = environ.get("REQUEST_METHOD", "GET").upper() not in READ_ONLY_METHODS
        if not changing:
            return app(environ, start_response)
        with _CHANGES_LOCK:
            counted[0] += 1
        try:
            return list(app(environ, start_response))  # the change is made by now
        finally:
            with _CHANGES_LOCK:
                counted[0] += 1

    return counted_app


@contextmanager
def running_s3_server() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise RuntimeError(
            "the s3_server fixture needs moto's S3 server: pip install 'moto[s3]' flask "
            "flask-cors (the plugin's [example] extra)"
        ) from exc
    added = {k: v for k, v in DUMMY_CREDENTIALS.items() if k not in os.environ}
    os.environ.update(added)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    # werkzeug logs every request at INFO, which pytest then prints under each failure
    request_log = logging.getLogger("werkzeug")
    level = request_log.level
    request_log.setLevel(logging.WARNING)
    with quiescence.suite_threads():
        server.start()
    http_server = getattr(server, "_server", None)
    quiescence.own_requests_of(http_server)
    endpoint = f"http://127.0.0.1:{port}"
    if http_server is not None and hasattr(http_server, "app"):  # werkzeug's, as moto makes it
        counted = [0]
        http_server.app = _counting(http_server.app, counted)
        with _CHANGES_LOCK:
            _CHANGES[endpoint] = counted
    try:
        yield endpoint
    finally:
        with _CHANGES_LOCK:
            _CHANGES.pop(endpoint, None)
        server.stop()
        request_log.setLevel(level)
        for key in added:
            os.environ.pop(key, None)
