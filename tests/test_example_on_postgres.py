"""The jewelry example's whole suite on PostgreSQL, as ``--jewelry-postgres`` selects."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from availability import require
from report_reading import REPORT_DIR, REPORT_OPTION, clauses_of, read_report, suite_checks
from servers import POSTGRES_URL, _reachable

ROOT = Path(__file__).resolve().parents[1]
ALL_CHECKS = suite_checks()


def test_the_example_passes_on_postgresql(pytester: pytest.Pytester) -> None:
    problem = _reachable(POSTGRES_URL)
    require(
        problem is None, f"PostgreSQL at {sa.make_url(POSTGRES_URL).host}", f"start it ({problem})"
    )
    result = pytester.runpytest_subprocess(
        str(ROOT / "examples" / "jewelry_erp"),
        f"--jewelry-postgres={POSTGRES_URL}",
        "--privacy-max-examples=5",
        "-p",
        "no:cacheprovider",
        REPORT_OPTION,
    )
    report = read_report(pytester.path / REPORT_DIR)
    assert report.check_statuses() == dict.fromkeys(ALL_CHECKS, "passed"), result.stdout.str()
    assert report.tested_clauses() == dict.fromkeys(clauses_of(ALL_CHECKS), "passed")
    with sa.create_engine(POSTGRES_URL).connect() as conn:  # every scratch schema dropped
        left = conn.exec_driver_sql(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'jewelry_%%'"
        ).scalar()
    assert left == 0
