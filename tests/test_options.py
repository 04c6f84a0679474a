"""Command-line and ini settings: bad values stop the run with a usage error naming them."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (
            ["--privacy-max-examples=0"],
            "",
            "--privacy-max-examples (ini privacy_max_examples) must be positive, got '0'",
        ),
        (
            ["--privacy-processor-timeout=soon"],
            "",
            "--privacy-processor-timeout (ini privacy_processor_timeout) must be a number, "
            "got 'soon'",
        ),
        (
            [],
            "privacy_shrink_seconds = -1",
            "--privacy-shrink-seconds (ini privacy_shrink_seconds) must be zero or more, got '-1'",
        ),
        (
            [],
            "privacy_max_examples = many",
            "--privacy-max-examples (ini privacy_max_examples) must be an integer, got 'many'",
        ),
        *(
            (
                [f"--privacy-call-timeout={value}"],
                "",
                "--privacy-call-timeout (ini privacy_call_timeout) must be "
                + ("a finite number" if value in ("nan", "inf") else "positive")
                + f", got '{value}'",
            )
            for value in ("nan", "inf", "0", "-2")
        ),
        (
            [],
            "privacy_mail_settle = -inf",
            "--privacy-mail-settle (ini privacy_mail_settle) must be a finite number, got '-inf'",
        ),
    ],
)
def test_bad_setting_is_a_usage_error(
    pytester: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_plain="def test_plain(): pass")
    result = pytester.runpytest_inprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message.strip('*')}*"])


def test_zero_shrink_seconds_is_accepted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain(): pass")
    result = pytester.runpytest_inprocess("--privacy-shrink-seconds=0")
    result.assert_outcomes(passed=1)


def test_privacy_profiles_are_selectable_and_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
import pytest
from hypothesis import settings

@pytest.mark.privacy("deletion")
def test_profile_is_loaded():
    assert settings().max_examples == 5
    assert settings().stateful_step_count == 20
"""
    )
    # A subprocess: loading a profile is global to hypothesis, so it must not leak into this run.
    result = pytester.runpytest_subprocess(
        "--hypothesis-profile=privacy-dev", "--privacy-report=dev", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
    report = json.loads((pytester.path / "dev" / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["hypothesis_profile"] == "privacy-dev"
    pytester.makepyfile(
        test_plain="""
import pytest

@pytest.mark.privacy("deletion")
def test_default_profile():
    pass
"""
    )
    pytester.runpytest_subprocess("--privacy-report=default", "-p", "no:cacheprovider")
    report = json.loads((pytester.path / "default" / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["hypothesis_profile"] == "privacy-ci"


def test_a_misspelt_hypothesis_profile_is_a_usage_error_listing_the_profiles(
    pytester: pytest.Pytester,
) -> None:
    """Hypothesis's own plugin ends such a run with an INTERNALERROR and a traceback."""
    pytester.makepyfile(test_plain="def test_plain(): pass")
    result = pytester.runpytest_inprocess("--hypothesis-profile=privacy-dep")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*'privacy-dep' is not a registered hypothesis profile"
            "*privacy-dev, privacy-ci, privacy-deep*"
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_profile_registered_in_conftest_still_loads(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "from hypothesis import settings\nsettings.register_profile('nightly', max_examples=3)\n"
    )
    pytester.makepyfile(test_plain="def test_plain(): pass")
    result = pytester.runpytest_inprocess("--hypothesis-profile=nightly")
    result.assert_outcomes(passed=1)


def test_the_help_names_the_privacy_profiles(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--help")
    result.stdout.fnmatch_lines(["*--hypothesis-profile=privacy-dev, privacy-ci*privacy-deep*"])
