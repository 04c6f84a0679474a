"""moto's S3 server on loopback, for modules and tests that keep data in buckets.

Real HTTP on 127.0.0.1 (moto's server mode), not an in-process mock: the
module's own boto3 client talks to it like to AWS. Credentials are set to
dummies for the server's lifetime unless the environment already has some.

The changes it serves are counted (``served_changes.py``), so the scanner can
prove a bucket, or an object's tags, unchanged since it last read them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from . import quiescence
from .served_changes import ServedChanges, register, unregister

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def running_s3_server() -> Iterator[str]:
    try:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server
    except ImportError as exc:
        raise RuntimeError(
            "the s3_server fixture needs moto's S3 server: pip install 'moto[s3]' flask "
            "flask-cors (the plugin's [example] extra)"
        ) from exc
    added = {k: v for k, v in DUMMY_CREDENTIALS.items() if k not in os.environ}
    os.environ.update(added)
    # moto's server mode, as its ThreadedMotoServer builds it, served here so that it stops
    # at once (quiescence.STOP_POLL_SECONDS); port 0: the system picks a free port, with no
    # race to bind it.
    http_server = make_server(
        "127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True
    )
    endpoint = f"http://127.0.0.1:{http_server.server_port}"
    changes = ServedChanges(f"127.0.0.1:{http_server.server_port}")
    http_server.app = changes.counting(http_server.app)
    # werkzeug logs every request at INFO, which pytest then prints under each failure
    request_log = logging.getLogger("werkzeug")
    level = request_log.level
    request_log.setLevel(logging.WARNING)
    serving = quiescence.serve_in_background(http_server, "stexcel-s3-server")
    register(endpoint, changes)
    try:
        yield endpoint
    finally:
        unregister(endpoint)
        http_server.shutdown()
        serving.join()
        http_server.server_close()
        request_log.setLevel(level)
        for key in added:
            os.environ.pop(key, None)
