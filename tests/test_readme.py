"""The README's promises hold: its minimal adapter runs as documented, and
its two commands are the ones CI runs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from report_reading import REPORT_DIR, REPORT_OPTION, read_report, suite_checks

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_minimal_adapter_passes_as_the_readme_says(pytester: pytest.Pytester) -> None:
    suite = next(block for block in code_blocks("python") if "class TestShop" in block)
    pytester.makepyfile(test_shop_privacy=suite)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--privacy-max-examples=5", REPORT_OPTION
    )
    report = read_report(pytester.path / REPORT_DIR)
    assert set(report.check_statuses()) == set(suite_checks())  # every check ran
    assert report.tested_clauses() == {
        "deletion": "passed",
        "deletion-processors": "not applicable",
        "deletion-exceptions": "not applicable",
        "children": "passed",
        "email-opt-out": "not applicable",
        "us-storage": "passed",
        "card-data": "not applicable",
        "third-party-sharing": "not applicable",
        "account-disconnect": "not applicable",
        "policy-notice": "not applicable",
        "shine-the-light": "not applicable",
    }
    assert result.ret == 0
    # the clause block the README shows is this run's, line for line
    (block,) = re.findall(r"\n```\n(=+ Stexcel privacy policy: clauses =+\n.*?)```", README, re.S)
    shown = block.splitlines()
    printed = result.stdout.lines
    start = printed.index(shown[0])
    assert printed[start : start + len(shown)] == shown
    (opt_out,) = [f for f in report.findings() if f["clause"] == "email-opt-out"]
    assert (
        "ShopAdapter declares sends_email = False, and no message reached" in (opt_out["summary"])
    )


def test_ci_runs_the_readme_test_command() -> None:
    first, second = code_blocks("sh")[0].strip().splitlines()[:2]
    assert "examples/jewelry_erp" in first
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second in ci.splitlines()


def test_the_first_command_installs_only_what_the_example_needs() -> None:
    """The example gets its own extra: no type checker, browser or every-AWS-service
    server just to run it; the second command keeps the development tools."""
    first, second = code_blocks("sh")[0].strip().splitlines()[:2]
    assert "'.[example]'" in first
    assert "'.[dev]'" in second
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = {re.split(r"[\[<>=!~ ]", requirement)[0] for requirement in extras["example"]}
    assert {"boto3", "moto"} <= names
    assert not names & {"mypy", "tox", "playwright", "ruff", "pytest-xdist"}
    assert "moto[server]" not in " ".join(extras["example"])


def ci_snippet_runs() -> list[list[str]]:
    """The ``run:`` commands of the README's GitHub Actions job, split as a shell would."""
    import shlex

    import yaml

    (workflow,) = [block for block in code_blocks("yaml") if "jobs:" in block]
    steps = yaml.safe_load(workflow)["jobs"]["privacy"]["steps"]
    return [shlex.split(step["run"]) for step in steps if "run" in step]


def test_the_ci_snippet_installs_what_it_uses() -> None:
    """Every ``pip install`` target is installable from a checkout (this repository, or a
    distribution the dev install provides), and ``-n`` comes with pytest-xdist."""
    from importlib.metadata import PackageNotFoundError, version

    runs = ci_snippet_runs()
    installs = [run[run.index("install") + 1 :] for run in runs if "install" in run]
    assert installs, "the snippet installs nothing"
    targets = [t for run in installs for t in run if t != "-e"]
    for target in targets:
        if target.startswith((".", "/")):
            path, _, extras = target.partition("[")
            assert (ROOT / path / "pyproject.toml").is_file(), target
            declared = tomllib.loads((ROOT / path / "pyproject.toml").read_text())["project"]
            for extra in filter(None, extras.rstrip("]").split(",")):
                assert extra.strip() in declared["optional-dependencies"], target
        else:
            # this plugin is not on PyPI: by name, pip cannot find it
            assert target != "pytest-stexcel-privacy", "install the plugin from a path or URL"
            try:
                version(target)
            except PackageNotFoundError:
                pytest.fail(f"the CI snippet installs {target!r}, which is not installable here")
    pytest_runs = [run for run in runs if run[:3] == ["python", "-m", "pytest"]]
    assert pytest_runs, "the snippet runs no pytest"
    if any("-n" in run for run in pytest_runs):
        assert "pytest-xdist" in targets


def test_every_option_in_the_ci_snippet_exists() -> None:
    """Each option the snippet's pytest step passes is one pytest knows (with this plugin
    and pytest-xdist installed), and each path it names exists."""
    import subprocess
    import sys

    known = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for run in (r for r in ci_snippet_runs() if r[:3] == ["python", "-m", "pytest"]):
        for argument in run[3:]:
            if argument.startswith("-"):
                option = argument.split("=")[0]
                assert re.search(rf"(^|[\s,]){re.escape(option)}[\s=,]", known, re.M), option
            elif not argument.isdigit() and argument != "auto":
                assert (ROOT / argument).exists(), argument
