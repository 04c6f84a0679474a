"""The Django integration (``pytest_stexcel_privacy.django``) on a tiny real Django shop.

Django's settings are process-wide, so each case runs pytest in a subprocess with
pytest-django, the tiny shop's settings (``tests/django_project``) and the environment
choosing its database, cache and mail backend.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from availability import require
from pytest_stexcel_privacy import Person, PrivacyAdapter
from pytest_stexcel_privacy.contract.checked import CheckedAdapter
from pytest_stexcel_privacy.errors import AdapterCallError
from report_reading import REPORT_DIR, REPORT_OPTION, read_report
from servers import POSTGRES_URL, _reachable

pytest.importorskip("django", reason="the Django integration needs the [django] extra")
pytest.importorskip("pytest_django", reason="the Django integration needs pytest-django")

PROJECT = Path(__file__).resolve().parent / "django_project"

SUITE = """
import pytest
from pytest_stexcel_privacy import PrivacySuite
from tiny_shop.privacy import TinyShopAdapter


class TestTinyShop(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, {db}, django_sinks):
        adapter = TinyShopAdapter(django_sinks)
        adapter.keeps_customers = {keeps}
        return adapter
"""


def run_django(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    *args: str,
    db: str = "memory",
    extra: dict[str, Any] | None = None,
) -> pytest.RunResult:
    """Run ``source`` as a test module under pytest-django with the tiny shop's settings."""
    monkeypatch.setenv("TINY_SHOP_DB", db)
    monkeypatch.setenv("TINY_SHOP_DIR", str(pytester.path / "shop"))
    monkeypatch.setenv("TINY_SHOP_EXTRA", json.dumps(extra or {}))
    monkeypatch.setenv("PYTHONPATH", str(PROJECT))
    pytester.makepyfile(test_shop=source)
    return pytester.runpytest_subprocess(
        "-p",
        "pytest_django",
        "-p",
        "pytest_stexcel_privacy.django",
        "--ds=tiny_shop.settings",
        "-p",
        "no:cacheprovider",
        "--privacy-max-examples=3",
        REPORT_OPTION,
        *args,
    )


def deletion_suite(db: str = "transactional_db", keeps: bool = False) -> str:
    return SUITE.format(db=db, keeps=keeps)


def deletion_statuses(pytester: pytest.Pytester) -> dict[str, str]:
    return read_report(pytester.path / REPORT_DIR).tested_clauses()


def test_the_suite_reads_an_in_memory_test_database(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_django(pytester, monkeypatch, deletion_suite(), "--privacy-clauses=deletion")
    assert deletion_statuses(pytester) == {"deletion": "passed"}, result.stdout.str()


def test_a_customer_left_in_the_in_memory_database_fails_deletion(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_django(
        pytester, monkeypatch, deletion_suite(keeps=True), "--privacy-clauses=deletion"
    )
    report = read_report(pytester.path / REPORT_DIR)
    assert report.tested_clauses() == {"deletion": "failed"}, result.stdout.str()
    locations = {f["evidence"][0]["store"] for f in report.findings("deletion", status="failed")}
    assert locations == {"database:default"}


def test_a_check_inside_a_per_test_transaction_errors_saying_what_to_use(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_django(
        pytester, monkeypatch, deletion_suite(db="db"), "--privacy-clauses=deletion"
    )
    assert deletion_statuses(pytester) == {"deletion": "error"}
    result.stdout.fnmatch_lines(
        ["*in_atomic_block*cannot see uncommitted rows*transactional_db*transaction=True*"]
    )


def test_on_postgresql_the_test_database_is_dropped_after_the_suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = _reachable(POSTGRES_URL)
    require(problem is None, "PostgreSQL", f"start it ({problem})")
    url = sa.make_url(POSTGRES_URL)
    test_db = f"test_tiny_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("TINY_SHOP_TEST_DB", test_db)
    django_url = f"postgresql://{url.username}@{url.host}:{url.port or 5432}/{url.database}"
    result = run_django(
        pytester,
        monkeypatch,
        deletion_suite(),
        "--privacy-clauses=deletion,us-storage",
        db=django_url,
    )
    assert deletion_statuses(pytester) == {"deletion": "passed", "us-storage": "passed"}, (
        result.stdout.str()
    )
    assert "being accessed by other users" not in result.stdout.str() + result.stderr.str()
    with sa.create_engine(POSTGRES_URL).connect() as conn:
        left = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_database WHERE datname = %(name)s", {"name": test_db}
        ).scalar()
    assert left == 0, "the test database was left behind"


STORES = """
from pytest_stexcel_privacy.django import django_stores


def test_stores():
    for store in django_stores(region="us-east-1"):
        print("STORE", store.kind, store.name)
"""


def test_django_stores_lists_every_place_and_each_database_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(pytester.path / "shop.db")}
    databases = {
        "default": second,
        "replica": second,  # the same database under a second alias: scanned once
    }
    extra = {
        "DATABASES": databases,
        "SESSION_ENGINE": "django.contrib.sessions.backends.file",
        "SESSION_FILE_PATH": str(pytester.path / "sessions"),
    }
    result = run_django(pytester, monkeypatch, STORES, "-s", extra=extra)
    stores = sorted(line[line.index("STORE") :] for line in result.stdout.lines if "STORE" in line)
    assert stores == [
        "STORE files cache:default",
        "STORE files log:shop",
        "STORE files media",
        "STORE files sessions",
        "STORE sql database:default",
    ], result.stdout.str()


def test_an_alias_that_cannot_be_read_errors_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {
        "DATABASES": {
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
            "archive": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(pytester.path / "no-such-dir" / "archive.db"),
            },
        }
    }
    result = run_django(
        pytester, monkeypatch, deletion_suite(), "--privacy-clauses=deletion", extra=extra
    )
    assert deletion_statuses(pytester) == {"deletion": "error"}
    result.stdout.fnmatch_lines(["*store 'database:archive' could not be read*"])


def test_an_in_process_cache_errors_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {"CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}}
    result = run_django(
        pytester, monkeypatch, deletion_suite(), "--privacy-clauses=deletion", extra=extra
    )
    assert deletion_statuses(pytester) == {"deletion": "error"}
    result.stdout.fnmatch_lines(["*CACHES?'default'? uses *LocMemCache*cannot read*"])


MAIL = """
from django.core.mail import send_mail


def test_mail(django_sinks, mail_sink):
    mark = mail_sink.mark()
    send_mail("Order shipped", "It is on its way.", "shop@example.com", ["ann@example.com"])
    assert [m.subject for m in mail_sink.since(mark)] == ["Order shipped"]
"""


def test_the_fixture_sends_the_projects_mail_to_the_mail_sink(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_django(pytester, monkeypatch, MAIL)
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("backend", ["console", "locmem"])
def test_a_backend_that_never_uses_email_host_errors_naming_the_setting(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    extra = {"EMAIL_BACKEND": f"django.core.mail.backends.{backend}.EmailBackend"}
    result = run_django(pytester, monkeypatch, MAIL, extra=extra)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"*EMAIL_BACKEND is *{backend}*never connects to EMAIL_HOST*smtp.EmailBackend*"]
    )


LOGIN = """
import datetime as dt

import time_machine
from django.contrib.auth.models import User
from pytest_stexcel_privacy.django import FreshLoginClient


def test_login_survives_the_clock(transactional_db):
    user = User.objects.create_user("ann", password="x")
    client = FreshLoginClient(user)
    assert client.get("/account/").status_code == 200
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)):
        assert client.get("/account/").content == b"hello ann"
"""


def test_the_login_helper_survives_the_clock_moving(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_django(pytester, monkeypatch, LOGIN)
    result.assert_outcomes(passed=1)


class _Recording(PrivacyAdapter):
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.released_on: list[str] = []

    def register(self, person: Person) -> int:
        return 1

    def release_thread(self) -> None:
        self.released_on.append(threading.current_thread().name)
        if self.fail:
            raise RuntimeError("connection already closed")


def test_release_thread_runs_on_the_calls_worker_thread(person_factory: Any) -> None:
    adapter = _Recording()
    CheckedAdapter(adapter).call_within(5, "register", person_factory())
    assert adapter.released_on == ["privacy-register"]


def test_release_thread_raising_errors_naming_it(person_factory: Any) -> None:
    with pytest.raises(AdapterCallError, match=r"release_thread\(\) raised RuntimeError.*register"):
        CheckedAdapter(_Recording(fail=True)).call_within(5, "register", person_factory())


class _Lazy:
    """Like Django's LazyObject: asking its ``__class__`` sets it up, here by raising."""

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        raise AssertionError("the guard set a lazy object up")


def test_the_guard_looks_at_module_globals_without_setting_lazy_objects_up() -> None:
    import types

    from pytest_stexcel_privacy.observe.native_calls import held_network_functions

    module = types.ModuleType("privacy_lazy_globals")
    module.storage = _Lazy()  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        assert held_network_functions() == []
    finally:
        del sys.modules[module.__name__]


WORKER_CONNECTION = """
import sqlite3
import threading

import pytest
from django.db import connections
from pytest_stexcel_privacy.django import close_thread_connections
from tiny_shop.models import Customer


def test_a_worker_threads_in_memory_connection_is_closed(transactional_db):
    opened = []

    def call():
        Customer.objects.count()
        opened.append(connections["default"].connection)
        close_thread_connections()

    worker = threading.Thread(target=call)
    worker.start()
    worker.join()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("SELECT 1")
    assert Customer.objects.count() == 0  # the database lives on in the test's connection
"""


def test_a_worker_threads_in_memory_connection_is_closed_not_left_to_the_gc(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Left to the garbage collector, it is closed whenever a collection runs: mid-query on
    # another connection to the same shared cache, SQLite deadlocks.
    result = run_django(pytester, monkeypatch, WORKER_CONNECTION)
    result.assert_outcomes(passed=1)
