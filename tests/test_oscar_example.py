"""The django-oscar example's whole suite, in a pytest of its own (Django's settings are
process-wide), on PostgreSQL; on SQLite in memory where no PostgreSQL runs (never under
CI=true, which needs the server)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from availability import require
from report_reading import REPORT_DIR, REPORT_OPTION, read_report, suite_checks
from servers import POSTGRES_URL, _reachable

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "oscar_shop"
ALL_CHECKS = suite_checks()
# What the shop cannot be held to, by design: it has no service providers and no
# birth-date correction (Oscar has neither), said in examples/oscar_shop/FINDINGS.md;
# nor third-party sites to connect, policy-change notices or disclosure lists.
NOT_APPLICABLE = {
    "test_deletion_reaches_processors",
    "test_child_learned_later_stops_processing",
    "test_data_reaches_only_declared_processors",
    "test_disconnected_site_receives_nothing_more",
    "test_policy_change_notice_reaches_every_account",
    "test_disclosure_list_names_the_marketing_recipients",
}


def oscar_installed() -> bool:
    try:
        import oscar  # noqa: F401
        import pytest_django  # noqa: F401
    except ImportError:
        return False
    return True


def test_the_oscar_shop_passes_every_check(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(oscar_installed(), "django-oscar and pytest-django", "pip install -e '.[dev]'")
    problem = _reachable(POSTGRES_URL)
    if os.environ.get("CI", "").lower() == "true":
        require(problem is None, "PostgreSQL", f"start it ({problem})")
    test_db = f"test_oscar_{uuid.uuid4().hex[:10]}"
    if problem is None:
        url = sa.make_url(POSTGRES_URL).set(drivername="postgresql")
        monkeypatch.setenv("OSCAR_SHOP_POSTGRES_URL", url.render_as_string(hide_password=False))
        monkeypatch.setenv("OSCAR_SHOP_TEST_DB", test_db)
    else:
        monkeypatch.delenv("OSCAR_SHOP_POSTGRES_URL", raising=False)
    monkeypatch.setenv("OSCAR_SHOP_DIR", str(pytester.path / "shop"))
    result = pytester.runpytest_subprocess(
        str(EXAMPLE),
        "-p",
        "pytest_django",
        "--ds=oscar_shop.settings",
        # The test database's tables straight from the models, as pytest-django offers:
        # replaying Oscar's 142 migrations took 10 to 12 s of CPU, a third of this run,
        # and they make no row the checks read (the adapter creates its site and
        # country itself, since transactional tests flush every table anyway).
        "--nomigrations",
        "--privacy-max-examples=5",
        "-p",
        "no:cacheprovider",
        REPORT_OPTION,
    )
    report = read_report(pytester.path / REPORT_DIR)
    expected = {
        check: "not applicable" if check in NOT_APPLICABLE else "passed" for check in ALL_CHECKS
    }
    assert report.check_statuses() == expected, result.stdout.str()
    if problem is None:
        with sa.create_engine(POSTGRES_URL).connect() as conn:
            left = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_database WHERE datname = %(name)s", {"name": test_db}
            ).scalar()
        assert left == 0, "the shop's test database was left behind"
