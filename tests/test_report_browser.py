"""The HTML report as a reviewer sees it: rendered by a real Chromium, headless."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from availability import require
from pytest_stexcel_privacy.clauses import CLAUSES
from pytest_stexcel_privacy.findings.evidence import Evidence
from pytest_stexcel_privacy.findings.outcomes import Status
from pytest_stexcel_privacy.findings.statistics import Finding
from pytest_stexcel_privacy.report.html import render_html
from pytest_stexcel_privacy.report.model import RunReport

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE = (
    '<script>window.__pwned = 1</script>"quoted" \'single\' <img src=x onerror="window.__pwned=2">'
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require(CHROMIUM is not None, "Chromium", "apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def sample_report() -> RunReport:
    leak = Evidence(
        text=f"erp-db notes.body [id=4]: email as exact {HOSTILE}",
        store="erp-db",
        location="notes.body",
        locator="id=4",
        field="email",
        form="exact",
        value=HOSTILE,
    )
    return RunReport(
        findings=[
            Finding(
                "suite.py::T::test_deletion_leaves_no_residue",
                "deletion",
                Status.FAILED,
                "1 trace(s) of the deleted person survived delete()",
                [leak],
                example="fixed scenario DeletionScenario(bystanders=1, history=[])",
            ),
            Finding(
                "suite.py::T::test_deletion_reaches_processors",
                "deletion-processors",
                Status.PASSED,
                accepted=[Evidence("erp-files logs/app.log [line 3]: accepted")],
            ),
            Finding(
                "suite.py::T::test_retentions_cover_only_what_they_name",
                "deletion-exceptions",
                Status.NOT_APPLICABLE,
                "not applicable: Shop.retentions() declares none",
            ),
        ],
        started="2026-11-25T10:00:00+00:00",
    )


def open_report(browser: Any, tmp_path: Path, report: RunReport) -> Any:
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    page.goto(path.as_uri())
    page.dialogs = dialogs
    return page


def test_every_clause_row_shows_its_status(browser: Any, tmp_path: Path) -> None:
    page = open_report(browser, tmp_path, sample_report())
    assert "fails" in page.title()
    rows = page.locator("#clauses tbody tr")
    assert rows.count() == len(CLAUSES)
    expected = {
        "deletion": "FAILED",
        "deletion-processors": "PASSED",
        "deletion-exceptions": "NOT APPLICABLE",
        "children": "NOT TESTED",
    }
    for clause, status in expected.items():
        row = page.locator(f'#clauses tr[data-clause="{clause}"]')
        assert row.locator("td.status").inner_text() == status
    assert page.locator("#verdict").inner_text() == "This run fails the privacy gate."
    page.close()


def test_evidence_expands_and_hostile_values_stay_text(browser: Any, tmp_path: Path) -> None:
    page = open_report(browser, tmp_path, sample_report())
    failed = page.locator('details.finding[data-status="failed"]')
    assert failed.locator("ul.evidence li").first.is_visible()  # failures open by default
    assert HOSTILE in failed.locator("ul.evidence li").first.inner_text()
    passed = page.locator('details.finding[data-status="passed"]')
    accepted = passed.locator("ul.evidence li").first
    assert not accepted.is_visible()
    passed.locator("summary").click()
    assert accepted.is_visible()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("body script:not([type='application/json'])").count() == 0
    assert page.locator("img").count() == 0
    assert page.dialogs == []
    page.close()


def test_a_passing_report_says_so(browser: Any, tmp_path: Path) -> None:
    report = RunReport([Finding("s.py::T::t", "deletion", Status.PASSED)])
    page = open_report(browser, tmp_path, report)
    assert page.locator("#verdict").inner_text() == "This run passes the privacy gate."
    assert page.locator("#incomplete").count() == 0
    page.close()


def test_printing_shows_collapsed_evidence(browser: Any, tmp_path: Path) -> None:
    page = open_report(browser, tmp_path, sample_report())
    accepted = page.locator('details.finding[data-status="passed"] ul.evidence li').first
    assert not accepted.is_visible()
    page.emulate_media(media="print")
    assert accepted.is_visible()
    page.close()
