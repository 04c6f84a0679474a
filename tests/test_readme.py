"""The README's promises hold: its minimal adapter runs as documented, and
its two commands are the ones CI runs."""

from __future__ import annotations

import re
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
        "email-opt-out": "error",
        "us-storage": "passed",
        "card-data": "not applicable",
    }
    result.stdout.fnmatch_lines(["*ShopAdapter does not implement opt_out(account) -> None*"])


def test_ci_runs_the_readme_test_command() -> None:
    first, second = code_blocks("sh")[0].strip().splitlines()[:2]
    assert "examples/jewelry_erp" in first
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second in ci.splitlines()
