"""Shared set-up for the plugin's own tests."""

from __future__ import annotations

# Import the suite's modules once in this process: pytester's in-process runs
# drop modules first imported inside them, and a second copy of hypothesis
# would no longer recognise the first copy's strategies. The HTTP clients go
# with them: an in-process run of the example imports requests and
# http.cookiejar, the snapshot drops them, and a later ``import requests``
# builds cookie jars on one copy of http.cookiejar and checks them against
# the other ("You can only merge into CookieJar"). numpy (the file scanner's)
# cannot be imported a second time in one process at all.
# The servers each in-process run starts for its own session (moto's S3 server, the
# SMTP sink) would otherwise be imported again by every run (moto: 0.13 s each time).
import http.cookiejar  # noqa: F401

import aiosmtpd.controller  # noqa: F401
import hypothesis.strategies  # noqa: F401
import moto.moto_server.werkzeug_app
import moto.s3.responses  # noqa: F401
import numpy  # noqa: F401
import pytest
import requests  # noqa: F401

import pytest_stexcel_privacy.checks.suite
import pytest_stexcel_privacy.people.factories  # noqa: F401
from worker_cores import pin_this_worker

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    pin_this_worker()
