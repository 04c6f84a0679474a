"""Shared set-up for the plugin's own tests."""

from __future__ import annotations

# Import the suite's modules once in this process: pytester's in-process runs
# drop modules first imported inside them, and a second copy of hypothesis
# would no longer recognise the first copy's strategies.
import hypothesis.strategies  # noqa: F401

import pytest_stexcel_privacy.checks.suite
import pytest_stexcel_privacy.people.factories  # noqa: F401

pytest_plugins = ["pytester"]
