"""pytest-stexcel-privacy: the Stexcel privacy policy as checks every ERP module must pass.

Public names are imported lazily, so that pytest loading the plugin (which
imports this package) stays cheap for test runs that select no privacy test.
``_EXPORTS`` is the one list of public names: ``__all__`` is derived from it;
the ``TYPE_CHECKING`` imports exist only for type checkers, and a test keeps
them equal to it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checks.lifecycle import (
        PrivacyLifecycle as PrivacyLifecycle,
    )
    from .checks.lifecycle import (
        run_lifecycle as run_lifecycle,
    )
    from .checks.suite import PrivacySuite as PrivacySuite
    from .contract.adapter import (
        PrivacyAdapter as PrivacyAdapter,
    )
    from .contract.adapter import (
        Processor as Processor,
    )
    from .contract.adapter import (
        RegistrationRejected as RegistrationRejected,
    )
    from .contract.adapter import (
        RequestRefused as RequestRefused,
    )
    from .contract.adapter import (
        Retention as Retention,
    )
    from .contract.decoding import (
        NotThisFormat as NotThisFormat,
    )
    from .contract.decoding import (
        ValueDecoder as ValueDecoder,
    )
    from .contract.stores import (
        FileStore as FileStore,
    )
    from .contract.stores import (
        RedisStore as RedisStore,
    )
    from .contract.stores import (
        S3Store as S3Store,
    )
    from .contract.stores import (
        SQLStore as SQLStore,
    )
    from .contract.stores import (
        Store as Store,
    )
    from .findings.outcomes import PrivacyViolation as PrivacyViolation
    from .harness.holder import PrivacyHarness as PrivacyHarness
    from .observe.egress import EgressGuard as EgressGuard
    from .observe.mail_sink import MailMessage as MailMessage
    from .observe.mail_sink import MailSink as MailSink
    from .observe.processor_sink import ProcessorSink as ProcessorSink
    from .people.persons import Card as Card
    from .people.persons import Person as Person
    from .scan import ResidueScanner as ResidueScanner

# public name -> the module (relative to this package) that defines it
_EXPORTS: dict[str, str] = {
    # the contract
    "PrivacyAdapter": "contract.adapter",
    "RegistrationRejected": "contract.adapter",
    "RequestRefused": "contract.adapter",
    "Retention": "contract.adapter",
    "Processor": "contract.adapter",
    "Store": "contract.stores",
    "SQLStore": "contract.stores",
    "RedisStore": "contract.stores",
    "FileStore": "contract.stores",
    "S3Store": "contract.stores",
    "ValueDecoder": "contract.decoding",
    "NotThisFormat": "contract.decoding",
    # synthetic people
    "Person": "people.persons",
    "Card": "people.persons",
    # the suite and its verdicts
    "PrivacySuite": "checks.suite",
    "PrivacyLifecycle": "checks.lifecycle",
    "run_lifecycle": "checks.lifecycle",
    "PrivacyViolation": "findings.outcomes",
    # the types of the fixtures users' own tests take
    "PrivacyHarness": "harness.holder",
    "MailSink": "observe.mail_sink",
    "MailMessage": "observe.mail_sink",
    "ProcessorSink": "observe.processor_sink",
    "EgressGuard": "observe.egress",
    "ResidueScanner": "scan",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
