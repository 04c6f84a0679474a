"""pytest-stexcel-privacy: the Stexcel privacy policy as checks every ERP module must pass.

Public names are imported lazily, so that pytest loading the plugin (which
imports this package) stays cheap for test runs that select no privacy test.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .adapter import PrivacyAdapter, Processor, RegistrationRejected, Retention
    from .checks.lifecycle import PrivacyLifecycle, run_lifecycle
    from .checks.suite import PrivacySuite
    from .outcomes import PrivacyViolation
    from .persons import Card, Person
    from .stores import FileStore, RedisStore, S3Store, SQLStore, Store

_EXPORTS: dict[str, str] = {
    "PrivacyAdapter": "adapter",
    "PrivacySuite": "checks.suite",
    "PrivacyLifecycle": "checks.lifecycle",
    "run_lifecycle": "checks.lifecycle",
    "Person": "persons",
    "Card": "persons",
    "RegistrationRejected": "adapter",
    "Retention": "adapter",
    "Processor": "adapter",
    "PrivacyViolation": "outcomes",
    "Store": "stores",
    "SQLStore": "stores",
    "RedisStore": "stores",
    "FileStore": "stores",
    "S3Store": "stores",
}

__all__ = [
    "Card",
    "FileStore",
    "Person",
    "PrivacyAdapter",
    "PrivacyLifecycle",
    "PrivacySuite",
    "PrivacyViolation",
    "Processor",
    "RedisStore",
    "RegistrationRejected",
    "Retention",
    "S3Store",
    "SQLStore",
    "Store",
    "run_lifecycle",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
