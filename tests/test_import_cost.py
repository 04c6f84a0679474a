"""Loading the plugin costs nothing heavy until a privacy test actually runs.

Every pytest run on a machine with the plugin installed loads it (entry point
``pytest11``), so the scanner's and the generators' libraries must stay out
of runs that select no privacy test.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytest_stexcel_privacy.report.collector import SECTION

HEAVY = (
    "sqlalchemy",
    "hypothesis",
    "faker",
    "factory",
    "ahocorasick_rs",
    "aiosmtpd",
    "jinja2",
    "numpy",
)


def test_importing_the_plugin_and_package_loads_nothing_heavy() -> None:
    probe = (
        "import sys, pytest_stexcel_privacy, pytest_stexcel_privacy.plugin\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_a_run_without_privacy_tests_loads_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain=f"""
        import sys

        def test_plain():
            assert [m for m in {HEAVY!r} if m in sys.modules] == []
        """
    )
    # Faker's own pytest plugin imports faker; it is not ours to judge.
    result = pytester.runpytest_subprocess("-p", "no:faker", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert SECTION not in result.stdout.str()
