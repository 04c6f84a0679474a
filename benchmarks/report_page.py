"""The HTML report: its template compiled for each report, against once a process.

Both ways in the same run (``report/html.py`` compiles it once).

    python benchmarks/report_page.py [--repeat 20]

Renders one run's report of 15 checks, one failing with evidence, both ways, and prints
each way's median time of ``--repeat`` renderings; exits non-zero if the two pages differ.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import pytest_stexcel_privacy.checks.suite  # noqa: F401  (registers every check)
from pytest_stexcel_privacy.checks.registry import CHECKS
from pytest_stexcel_privacy.findings.evidence import Evidence
from pytest_stexcel_privacy.findings.outcomes import Status
from pytest_stexcel_privacy.findings.statistics import Finding
from pytest_stexcel_privacy.report import html
from pytest_stexcel_privacy.report.model import RunReport


def a_run() -> RunReport:
    """A report as the example's suite writes one: each check once, the first failing."""
    findings = [
        Finding(f"test_privacy.py::TestShop::{name}", spec.clause, Status.PASSED)
        for name, spec in CHECKS.items()
    ]
    first = findings[0]
    first.status, first.summary = Status.FAILED, "residue after delete()"
    first.evidence = [Evidence("erp-db customers.email [id=1]: email as exact 'zo**@ex'")]
    return RunReport(findings=findings)


def median_render(report: RunReport, compile_each_time: bool, repeat: int) -> tuple[float, str]:
    times, page = [], ""
    for _ in range(repeat):
        if compile_each_time:
            html._page_template.cache_clear()
        started = time.perf_counter()
        page = html.render_html(report)
        times.append(time.perf_counter() - started)
    return statistics.median(times), page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="renderings each way (20)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    report = a_run()
    html.render_html(report)  # jinja2 imported, as a writing run has it
    each, each_page = median_render(report, True, args.repeat)
    once, once_page = median_render(report, False, args.repeat)
    if each_page != once_page:
        print("the two ways rendered different pages", file=sys.stderr)
        return 1
    print(f"template compiled for each report: {each * 1000:6.1f} ms a report")
    print(f"compiled once a process:           {once * 1000:6.1f} ms ({each / once:.1f}x faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
