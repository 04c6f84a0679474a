"""Holding an adapter to the contract, with errors that name the culprit.

Users meet this module only through its messages: a wrong ``privacy_adapter``
fixture, a missing method, or a method that raised is reported in one
sentence saying what to fix, instead of a traceback from inside the suite.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Sequence
from typing import Any

from ..errors import AdapterCallError, AdapterCallTimeout, AdapterContractError
from ..findings.outcomes import NotApplicable
from ..observe import quiescence
from ..people.persons import PERSON_FIELDS
from .adapter import (
    CAPABILITIES,
    PURPOSES,
    PrivacyAdapter,
    Processor,
    RegistrationRejected,
    Retention,
    implements,
)
from .profile import AdapterProfile
from .stores import Store

FIXTURE_HELP = """\
Define it next to your suite, for example:

    import pytest
    from pytest_stexcel_privacy import PrivacySuite

    class TestMyModule(PrivacySuite):
        @pytest.fixture
        def privacy_adapter(self, tmp_path, processor_sink):
            return MyModuleAdapter(tmp_path, processor_sink.url_for("mailing"))

(or as a fixture named privacy_adapter in your conftest.py)."""


def missing_fixture_message() -> str:
    return "the privacy suite needs a fixture named 'privacy_adapter' and none is defined.\n" + (
        FIXTURE_HELP
    )


def validate_adapter(adapter: object) -> None:
    """Reject anything that is not an adapter instance, saying what it is instead."""
    if adapter is None:
        raise AdapterContractError(
            "the privacy_adapter fixture returned None; it must return (or yield) an "
            "instance of your PrivacyAdapter subclass. Did you forget 'return'?"
        )
    if inspect.isclass(adapter):
        raise AdapterContractError(
            f"the privacy_adapter fixture returned the class {adapter.__name__}, not an "
            f"instance; return {adapter.__name__}(...)"
        )
    if isinstance(adapter, PrivacyAdapter):
        return
    missing = [
        name for name, c in CAPABILITIES.items() if c.required and not implements(adapter, name)
    ]
    if missing:
        raise AdapterContractError(
            f"the privacy_adapter fixture returned {type(adapter).__name__!r} ({adapter!r:.60}), "
            "which is not a PrivacyAdapter: subclass pytest_stexcel_privacy.PrivacyAdapter "
            f"(it lacks {', '.join(missing)})"
        )


# Methods returning the account the others receive, and methods acting on an account.
RETURNS_ACCOUNT = tuple(n for n, c in CAPABILITIES.items() if c.signature.endswith("-> Account"))
ACTS_ON_ACCOUNT = tuple(
    n for n, c in CAPABILITIES.items() if c.signature.startswith(f"{n}(account")
)


def reported_failure(result: object) -> str:
    """How a method's return value says the module could not do it ("" if it does not).

    ``False``, an exception returned instead of raised, or an HTTP response with
    an error status (an integer ``status_code`` of 400 or more, as the responses
    of requests and httpx and the test clients of Django and Flask have): what a
    module answers when it cannot find the account it was given.
    """
    if result is False:
        return "returned False"
    if isinstance(result, BaseException):
        return f"returned {result!r:.120} instead of raising it"
    status = getattr(result, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
        return f"returned {type(result).__name__} with HTTP status {status}"
    return ""


def _call_of(method: str) -> str:
    """``delete(account)``: a method as a call, without its return annotation."""
    return CAPABILITIES[method].signature.split(" -> ")[0]


# The methods that drive a module's mail: a module declaring sends_email = False has none.
MAIL_CAPABILITIES = ("opt_out", "unsubscribe", "send_marketing", "send_transactional")


def require(checked: CheckedAdapter, needs: Sequence[str], clause: str) -> None:
    """Fail (required capability) or skip as not applicable (optional one) before a check runs."""
    adapter = checked.adapter
    name = type(adapter).__name__
    if not checked.profile.sends_email:
        needs = [need for need in needs if need not in MAIL_CAPABILITIES]
    for need in needs:
        capability = CAPABILITIES[need]
        if implements(adapter, need):
            continue
        if capability.required:
            raise AdapterContractError(
                f"{name} does not implement {capability.signature}, which clause "
                f"{clause!r} needs: it should {capability.meaning}."
            )
        raise NotApplicable(f"{name} does not implement {capability.signature}")


def require_settings_backed(checked: CheckedAdapter, needs: Sequence[str]) -> None:
    """Error before a check that deletes runs when a setting promises what the adapter's
    declarations cannot back: an opt-out surviving deletion needs a kept e-mail address,
    which is residue unless a ``Retention`` names it."""
    if "delete" not in needs or not checked.profile.opt_out_survives_deletion:
        return
    if any("email" in retention.fields for retention in checked.retentions()):
        return
    raise AdapterContractError(
        f"{checked.name}.opt_out_survives_deletion = True, but {checked.name}.retentions() "
        "declares no Retention whose fields include 'email': an opt-out can only outlive "
        "deletion if the module keeps the address (a suppression list), which is residue "
        "unless declared. Declare Retention(exception=..., store=..., locations=(<the "
        "suppression list>,), fields=('email',), reason=...), or set "
        "opt_out_survives_deletion = False"
    )


class CheckedAdapter:
    """Calls the user's adapter, turning its exceptions into errors naming the method.

    Its settings are read once, here: a bad one raises ``AdapterContractError``
    before any check runs, and checks read ``profile`` instead of the adapter.
    """

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter
        self.name = type(adapter).__name__
        self.profile = AdapterProfile.of(adapter)
        self.calls: dict[str, int] = {}  # method -> times called, for the report's coverage

    def implements(self, capability: str) -> bool:
        return implements(self.adapter, capability)

    def call(self, method: str, *args: Any) -> Any:
        """Call ``method``, holding its result to the contract too.

        An account-returning method (``register``) that returns None, and a
        method acting on an account that reports it could not (``delete``
        returning False or a 404), are errors naming the method: mistakes of the
        adapter, which would otherwise surface as a privacy violation.
        """
        self.calls[method] = self.calls.get(method, 0) + 1
        try:
            with quiescence.adapter_call():
                result = getattr(self.adapter, method)(*args)
        except RegistrationRejected:
            if method != "register":
                raise self._error(
                    method, "raised RegistrationRejected outside register()"
                ) from None
            raise
        except AssertionError:
            raise  # the module's own assertion: a real failure, keep it visible
        except Exception as exc:
            raise self._error(method, f"raised {type(exc).__name__}: {exc}") from exc
        self._check_result(method, result)
        return result

    def _check_result(self, method: str, result: object) -> None:
        if result is None and method in RETURNS_ACCOUNT:
            raise AdapterContractError(
                f"{self.name}.{_call_of(method)} returned None; it must return what identifies "
                "the account (an id, a model instance ...): the suite hands it, unchanged, to "
                f"{_call_of('delete')}, {_call_of('opt_out')} and every other method acting on "
                "an account. Did you forget 'return'?"
            )
        failure = reported_failure(result) if method in ACTS_ON_ACCOUNT else ""
        if failure:
            raise self._error(
                method,
                f"{failure}: the module says it could not act on the account it was given. "
                "Is it what register() returned, and what the module looks accounts up by? "
                "Return None once done; raise when the module cannot do it",
            )

    def _error(self, method: str, what: str) -> AdapterCallError:
        return AdapterCallError(f"{self.name}.{CAPABILITIES[method].signature} {what}")

    def _released_badly(self, method: str, exc: Exception) -> AdapterCallError:
        return AdapterCallError(
            f"{self.name}.release_thread() raised {type(exc).__name__}: {exc} after "
            f"{_call_of(method)}; it must release what the call left on its thread "
            "(connections, transactions) without raising"
        )

    def _timeout(self, method: str, what: str) -> AdapterCallTimeout:
        return AdapterCallTimeout(f"{self.name}.{CAPABILITIES[method].signature} {what}")

    def call_within(self, seconds: float, method: str, *args: Any) -> Any:
        """``call``, but a method that has not returned after ``seconds`` is an error.

        The call runs on a daemon thread, so a module that hangs cannot hang the
        suite; the thread is abandoned, which is why the check then errors.
        """
        outcome: list[Any] = []

        def run() -> None:
            try:
                outcome.append((True, self.call(method, *args)))
            except BaseException as exc:  # handed to the caller's thread below
                outcome.append((False, exc))
            release = getattr(self.adapter, "release_thread", None)  # a duck-typed one may lack it
            try:
                if callable(release):
                    release()
            except Exception as exc:
                outcome[:] = [(False, self._released_badly(method, exc))]

        worker = threading.Thread(target=run, name=f"privacy-{method}", daemon=True)
        worker.start()
        worker.join(seconds)
        if not outcome:
            raise self._timeout(
                method,
                f"did not return within {seconds:g} s (--privacy-call-timeout); "
                "is the module waiting on a lock, a prompt or a network peer?",
            )
        ok, value = outcome[0]
        if ok:
            return value
        raise value

    def stores(self) -> list[Store]:
        stores = self._list("stores", Store, "SQLStore(url) or FileStore(root)")
        if not stores:
            raise AdapterContractError(
                f"{self.name}.stores() returned no stores; declare every place the module "
                "keeps data, or nothing can be checked"
            )
        return stores

    def retentions(self) -> list[Retention]:
        if not self.implements("retentions"):
            return []
        return self._list("retentions", Retention, "Retention(...)")

    def processors(self) -> list[Processor]:
        if not self.implements("processors"):
            return []
        processors: list[Processor] = self._list("processors", Processor, "Processor(name, url)")
        extra = [name for name, _ in self.profile.extra_fields]
        problems = processor_problems(processors, extra)
        if problems:
            raise AdapterContractError(f"{self.name}.processors(): " + "; ".join(problems))
        return processors

    def _list(self, method: str, kind: type[Any], example: str) -> list[Any]:
        result = self.call(method)
        if isinstance(result, (str, bytes)) or not hasattr(result, "__iter__"):
            raise AdapterContractError(
                f"{self.name}.{method}() returned {type(result).__name__}; it must return a "
                f"list of {kind.__name__} such as {example}"
            )
        items = list(result)
        for item in items:
            if not isinstance(item, kind):
                raise AdapterContractError(
                    f"{self.name}.{method}() returned an item {item!r:.80} of type "
                    f"{type(item).__name__}; each must be a {kind.__name__} such as {example}"
                )
        return items


def processor_problems(processors: Sequence[Processor], extra_fields: Sequence[str]) -> list[str]:
    """What is wrong with declared processors: a purpose the policy does not list, a field
    no person has, a name used twice."""
    known = (*PERSON_FIELDS, *extra_fields)
    problems, seen = [], set()
    for processor in processors:
        if processor.name in seen:
            problems.append(f"two processors are named {processor.name!r}")
        seen.add(processor.name)
        if processor.purpose is not None and processor.purpose not in PURPOSES:
            problems.append(
                f"processor {processor.name!r} has purpose {processor.purpose!r}; the policy "
                f"lets data be shared for {', '.join(map(repr, PURPOSES))} (or None)"
            )
        unknown = [f for f in processor.fields or () if f not in known]
        if unknown:
            problems.append(
                f"processor {processor.name!r} names unknown field(s) {unknown}; a person's "
                f"fields are {', '.join(known)} (add an identifier of your own to "
                "extra_fields)"
            )
    return problems
