"""The Django integration: an adapter base, the stores a project keeps data in, its sinks.

A Django project's data lives where its settings say (``DATABASES``, ``MEDIA_ROOT``,
``LOGGING``, ``CACHES``, ``SESSION_ENGINE``), so the stores are read from them instead
of being written out by hand. Django binds connections to threads, and the suite runs
adapter calls on worker threads: ``DjangoPrivacyAdapter`` closes them after each call.

Opt in from a conftest.py (needs pytest-django)::

    pytest_plugins = ["pytest_stexcel_privacy.django"]

Importing this module imports Django; importing the package does not.
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from django.conf import global_settings
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client
from django.utils.module_loading import import_string

from .contract.adapter import PrivacyAdapter, Processor
from .contract.stores import FileStore, RedisStore, SQLStore, Store
from .errors import AdapterContractError

if TYPE_CHECKING:
    from .observe.mail_sink import MailSink
    from .observe.processor_sink import ProcessorSink

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
IN_TRANSACTION_HELP = (
    "the suite reads from its own connection and cannot see uncommitted rows — use "
    "`transactional_db` or `@pytest.mark.django_db(transaction=True)`"
)
# Cache backends by where they keep values: files, Redis, the database (scanned with it),
# nowhere. Any other one (LocMemCache: this process's memory, memcached) cannot be read.
FILE_CACHES = ("django.core.cache.backends.filebased.FileBasedCache",)
REDIS_CACHES = ("django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache")
UNSTORED_CACHES = (
    "django.core.cache.backends.db.DatabaseCache",
    "django.core.cache.backends.dummy.DummyCache",
)
# Session engines kept in the database or a cache (scanned there), or in the browser.
SCANNED_ELSEWHERE_SESSIONS = (
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.cached_db",
    "django.contrib.sessions.backends.signed_cookies",
)
FILE_SESSIONS = "django.contrib.sessions.backends.file"
SQLALCHEMY_DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}


class DjangoSetupError(AdapterContractError):
    """The Django project is set up in a way the suite cannot check; says which setting."""


# --- stores -----------------------------------------------------------------------


def django_stores(*, region: str | None = None) -> list[Store]:
    """Every place the running Django project keeps data, as the suite's stores.

    Every ``DATABASES`` alias (two aliases on one database, a test mirror, once),
    ``MEDIA_ROOT``, the directory of each file handler in ``LOGGING``, file-based and
    Redis caches, and file sessions. A setting naming a place no scanner can read
    (an in-process cache, an unknown backend) raises ``DjangoSetupError`` naming it.
    """
    return [*_database_stores(region), *_file_stores(region), *_redis_stores(region)]


def _database_stores(region: str | None) -> Iterator[Store]:
    seen: set[tuple[str, ...]] = set()
    for alias in connections:
        key, store = _database_store(alias, region)
        if key not in seen:
            seen.add(key)
            yield store


def _database_store(alias: str, region: str | None) -> tuple[tuple[str, ...], Store]:
    """The store of one alias, with what identifies its database (for duplicates)."""
    connection = connections[alias]
    config = connection.settings_dict
    name, vendor = str(config["NAME"] or ""), connection.vendor
    store_name = f"database:{alias}"
    if vendor == "sqlite":
        if connection.is_in_memory_db():
            if "mode=memory" not in name:  # a private ":memory:" no other connection sees
                raise DjangoSetupError(
                    f"DATABASES[{alias!r}] is a private in-memory SQLite database ({name!r}) "
                    "that only its own connection can read; run the tests under pytest-django "
                    "(its test database is shared in memory) or give it a file NAME"
                )
            return ("sqlite", name), SQLStore(
                _shared_memory_engine(name), name=store_name, region=region
            )
        path = Path(name).resolve()
        return ("sqlite", str(path)), SQLStore(f"sqlite:///{path}", name=store_name, region=region)
    if vendor not in SQLALCHEMY_DRIVERS:
        raise DjangoSetupError(
            f"DATABASES[{alias!r}] is a {vendor} database; the suite scans SQLite, PostgreSQL "
            "and MariaDB/MySQL"
        )
    import sqlalchemy as sa

    url = sa.URL.create(
        SQLALCHEMY_DRIVERS[vendor],
        username=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,  # none: the local socket, as Django connects
        port=int(config["PORT"]) if config.get("PORT") else None,
        database=name,
    )
    key = (vendor, str(url.host), str(url.port or ""), name)
    return key, SQLStore(url.render_as_string(hide_password=False), name=store_name, region=region)


def _shared_memory_engine(uri: str) -> Any:
    """An engine on Django's shared-cache in-memory test database: every connection to
    the same URI sees it while Django keeps one open."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    return sa.create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool
    )


def _file_stores(region: str | None) -> list[Store]:
    """One store per directory, a directory inside another one's left to that one."""
    roots: dict[Path, str] = {}
    if django_settings.MEDIA_ROOT:
        roots[Path(django_settings.MEDIA_ROOT)] = "media"
    for handler, config in (
        (getattr(django_settings, "LOGGING", None) or {}).get("handlers", {}).items()
    ):
        if config.get("filename"):
            roots.setdefault(Path(config["filename"]).parent, f"log:{handler}")
    for alias, config in django_settings.CACHES.items():
        backend = config.get("BACKEND", "")
        if backend in FILE_CACHES:
            roots.setdefault(Path(config["LOCATION"]), f"cache:{alias}")
        elif backend not in REDIS_CACHES + UNSTORED_CACHES:
            raise DjangoSetupError(
                f"CACHES[{alias!r}] uses {backend}, which the suite cannot read (an "
                "in-process cache keeps values where no scanner sees them); in the test "
                "settings use FileBasedCache with LOCATION in a temporary directory, "
                "RedisCache, DatabaseCache or DummyCache"
            )
    session_engine = django_settings.SESSION_ENGINE
    if session_engine == FILE_SESSIONS:
        if not django_settings.SESSION_FILE_PATH:
            raise DjangoSetupError(
                "SESSION_ENGINE keeps sessions in files but SESSION_FILE_PATH is not set "
                "(Django then uses the system's temporary directory); set it to a directory "
                "of the test run's own"
            )
        roots.setdefault(Path(django_settings.SESSION_FILE_PATH), "sessions")
    elif session_engine not in SCANNED_ELSEWHERE_SESSIONS:
        raise DjangoSetupError(
            f"SESSION_ENGINE {session_engine!r} is not one django_stores() knows where to "
            "scan; declare its store in stores() yourself, next to django_stores()"
        )
    stores: list[FileStore] = []
    for root in sorted(roots, key=lambda path: len(path.resolve().parts)):
        if any(root.resolve().is_relative_to(kept.root.resolve()) for kept in stores):
            continue
        root.mkdir(parents=True, exist_ok=True)  # what Django would make on first write
        stores.append(FileStore(root, name=roots[root], region=region))
    return list(stores)


def _redis_stores(region: str | None) -> list[Store]:
    stores: dict[str, Store] = {}
    for alias, config in django_settings.CACHES.items():
        if config.get("BACKEND") in REDIS_CACHES:
            locations = config["LOCATION"]
            for url in [locations] if isinstance(locations, str) else locations:
                stores.setdefault(url, RedisStore(url, name=f"cache:{alias}", region=region))
    return list(stores.values())


def require_autocommit() -> None:
    """Refuse a check run inside a per-test transaction (pytest-django's ``db``)."""
    for alias in connections:
        if connections[alias].in_atomic_block:
            raise DjangoSetupError(
                f"DATABASES[{alias!r}] is inside a transaction on the test's thread "
                f"(connection.in_atomic_block, as under pytest-django's `db` fixture): "
                f"{IN_TRANSACTION_HELP}"
            )


def close_thread_connections() -> None:
    """Close the connections Django opened on this thread (each thread has its own).

    Django never closes a connection to an in-memory SQLite database (that would drop
    the database), so a worker thread's one is left to the garbage collector, which may
    close it while another connection to the same shared cache is mid-query: SQLite
    then deadlocks. Closed here, on its own thread, the database lives on in the test
    thread's connection.
    """
    for connection in connections.all(initialized_only=True):
        in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
        if in_memory and connection.connection is not None:
            connection.connection.close()
            connection.connection = None
    connections.close_all()


# --- mail and providers -------------------------------------------------------------


def project_email_backend() -> str:
    """The project's own ``EMAIL_BACKEND``: pytest-django swaps in locmem for tests."""
    module = getattr(django_settings, "SETTINGS_MODULE", None)
    configured = getattr(importlib.import_module(module), "EMAIL_BACKEND", None) if module else None
    return str(configured or global_settings.EMAIL_BACKEND)


def require_smtp_backend(backend: str) -> None:
    from django.core.mail.backends.smtp import EmailBackend

    try:
        backend_class = import_string(backend)
    except ImportError as exc:
        raise DjangoSetupError(f"EMAIL_BACKEND {backend!r} cannot be imported: {exc}") from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, EmailBackend)):
        raise DjangoSetupError(
            f"EMAIL_BACKEND is {backend!r}, which never connects to EMAIL_HOST: the "
            "django_sinks fixture points EMAIL_HOST and EMAIL_PORT at the suite's mail sink, "
            f"so the settings the tests run with need EMAIL_BACKEND = {SMTP_BACKEND!r} (or "
            "a subclass of it)"
        )


@dataclass
class DjangoSinks:
    """The project's settings pointed at the suite's sinks, for one test."""

    settings: Any  # pytest-django's ``settings`` fixture: restored after the test
    mail_sink: MailSink
    processor_sink: ProcessorSink

    def point_mail(self, backend: str) -> None:
        require_smtp_backend(backend)
        host, port = self.mail_sink.address
        self.settings.EMAIL_BACKEND = backend
        self.settings.EMAIL_HOST, self.settings.EMAIL_PORT = host, port
        self.settings.EMAIL_HOST_USER = self.settings.EMAIL_HOST_PASSWORD = ""
        self.settings.EMAIL_USE_TLS = self.settings.EMAIL_USE_SSL = False

    def point_provider(self, setting: str, processor: str) -> str:
        """Set ``setting`` to the sink's URL for ``processor``; return that URL."""
        url = self.processor_sink.url_for(processor)
        setattr(self.settings, setting, url)
        return url


@pytest.fixture
def django_sinks(settings: Any, mail_sink: MailSink, processor_sink: ProcessorSink) -> DjangoSinks:
    """The project's ``EMAIL_*`` settings pointed at ``mail_sink`` (its own SMTP backend
    kept); provider settings follow through ``DjangoSinks.point_provider``."""
    sinks = DjangoSinks(settings, mail_sink, processor_sink)
    try:
        sinks.point_mail(project_email_backend())
    except DjangoSetupError as exc:
        pytest.fail(f"DjangoSetupError: {exc}", pytrace=False)
    return sinks


# --- the adapter base -------------------------------------------------------------


class FreshLoginClient(Client):
    """A test ``Client`` that logs its user in again before every request: the suite
    moves the clock, which expires a session made before the move."""

    def __init__(self, user: Any, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.user = user

    def request(self, **request: Any) -> Any:
        self.force_login(self.user)
        return super().request(**request)


class DjangoPrivacyAdapter(PrivacyAdapter):
    """Base of a Django project's adapter: stores from its settings, providers pointed
    at the sink, and Django's connections closed after every call on a worker thread.

    ``region`` is where the stores and providers live in production;
    ``provider_settings`` maps each setting holding a provider's base URL to the
    provider's name.
    """

    region: ClassVar[str | None] = None
    provider_settings: ClassVar[Mapping[str, str]] = {}

    def __init__(self, sinks: DjangoSinks) -> None:
        self.sinks = sinks
        self.provider_urls = {
            name: sinks.point_provider(setting, name)
            for setting, name in self.provider_settings.items()
        }

    def release_thread(self) -> None:
        close_thread_connections()

    def stores(self) -> list[Store]:
        require_autocommit()
        return django_stores(region=self.region)

    def processors(self) -> list[Processor]:
        return [
            Processor(name, url, region=self.region) for name, url in self.provider_urls.items()
        ]

    def client_for(self, user: Any) -> Client:
        """A test client logged in as ``user``, whatever the suite does to the clock."""
        return FreshLoginClient(user)
