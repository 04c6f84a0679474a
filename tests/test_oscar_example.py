"""The django-oscar example's whole suite, in a pytest of its own (Django's settings are
process-wide): SQLite in memory, and PostgreSQL when the server is running."""

from __future__ import annotations

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


def oscar_installed() -> bool:
    try:
        import oscar  # noqa: F401
        import pytest_django  # noqa: F401
    except ImportError:
        return False
    return True


def run_the_shop(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    require(oscar_installed(), "django-oscar and pytest-django", "pip install -e '.[dev]'")
    monkeypatch.setenv("OSCAR_SHOP_DIR", str(pytester.path / "shop"))
    result = pytester.runpytest_subprocess(
        str(EXAMPLE),
        "-p",
        "pytest_django",
        "--ds=oscar_shop.settings",
        "--privacy-max-examples=5",
        "-p",
        "no:cacheprovider",
        REPORT_OPTION,
    )
    report = read_report(pytester.path / REPORT_DIR)
    assert report.check_statuses() == dict.fromkeys(ALL_CHECKS, "passed"), result.stdout.str()


def test_the_oscar_shop_passes_on_sqlite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OSCAR_SHOP_POSTGRES_URL", raising=False)
    run_the_shop(pytester, monkeypatch)


def test_the_oscar_shop_passes_on_postgresql(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = _reachable(POSTGRES_URL)
    require(problem is None, "PostgreSQL", f"start it ({problem})")
    url = sa.make_url(POSTGRES_URL).set(drivername="postgresql")
    test_db = f"test_oscar_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("OSCAR_SHOP_POSTGRES_URL", url.render_as_string(hide_password=False))
    monkeypatch.setenv("OSCAR_SHOP_TEST_DB", test_db)
    run_the_shop(pytester, monkeypatch)
    with sa.create_engine(POSTGRES_URL).connect() as conn:
        left = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_database WHERE datname = %(name)s", {"name": test_db}
        ).scalar()
    assert left == 0, "the shop's test database was left behind"
