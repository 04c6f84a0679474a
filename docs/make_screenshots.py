"""Regenerate docs/report-passing.png and docs/report-failing.png.

Runs the example suite (passing) and a broken variant of it (failing) with
``--privacy-report``, then photographs each report.html in headless
Chromium. Usage: ``python docs/make_screenshots.py`` from the repository root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from suites import IMPORTS, suite_class  # noqa: E402  (the tests' own suite modules)

FAILING_SUITE = IMPORTS + suite_class(
    "TestJewelryErpWithLeakyAuditLog", "mutants.AuditLogKeepsPayload"
)


def run_suite(target: Path, report: Path, cwd: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "examples" / "jewelry_erp"), str(ROOT / "tests")]
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(target),
            f"--privacy-report={report}",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=cwd,
        env=env,
        check=False,
    )


def photograph(html: Path, png: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(html.as_uri())
        page.screenshot(path=str(png), full_page=True)
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        run_suite(ROOT / "examples" / "jewelry_erp", work / "passing", ROOT)
        (work / "test_failing.py").write_text(FAILING_SUITE)
        run_suite(work / "test_failing.py", work / "failing", work)
        photograph(work / "passing" / "report.html", ROOT / "docs" / "report-passing.png")
        photograph(work / "failing" / "report.html", ROOT / "docs" / "report-failing.png")


if __name__ == "__main__":
    main()
