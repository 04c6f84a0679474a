"""What a privacy check works with: the checked adapter, its stores, the sinks, the settings.

Checks receive one ``PrivacyHarness`` instead of many fixtures. Hypothesis
properties run *inside* the check through :meth:`PrivacyHarness.run_property`,
with the adapter reached by closure rather than through pytest fixtures, so
shrinking and replay work (the way ``run_state_machine_as_test`` does it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from ..contract.checked import CheckedAdapter, require, validate_adapter
from ..findings.evidence import Evidence
from ..findings.outcomes import PrivacyViolation
from ..findings.statistics import CheckStatistics
from ..observe.egress import EgressGuard
from ..observe.processor_sink import ProcessorSink
from ..scan import ResidueScanner
from ..settings import PrivacySettings

if TYPE_CHECKING:
    from hypothesis import settings

    from ..checks.adapter_machine import AdapterMachine

T = TypeVar("T")


class PrivacyHarness:
    def __init__(
        self,
        adapter: CheckedAdapter,
        scanner: ResidueScanner,
        processor_sink: ProcessorSink,
        settings: PrivacySettings,
        nodeid: str,
    ) -> None:
        self.adapter = adapter
        self.scanner = scanner
        self.processor_sink = processor_sink
        self.settings = settings
        self.nodeid = nodeid
        self.clause = ""
        self.statistics = CheckStatistics(shrink_seconds_limit=settings.shrink_seconds)
        self.retentions_used: list[str] = []
        self.accepted: list[Evidence] = []
        self.egress: EgressGuard | None = None

    @classmethod
    def open(
        cls,
        adapter: object,
        processor_sink: ProcessorSink,
        settings: PrivacySettings,
        nodeid: str,
        clause: str | None = None,
        needs: tuple[str, ...] = (),
    ) -> PrivacyHarness:
        """Validate the adapter and open every store, before the check's body runs.

        Raises ``AdapterContractError``, ``NotApplicable`` or ``StoreUnreadable``
        naming the culprit, so a broken set-up is reported at setup, not as a
        traceback from inside a check.
        """
        validate_adapter(adapter)
        if clause is not None:
            require(adapter, needs, clause)
        checked = CheckedAdapter(adapter)  # a bad setting errors here, at setup, named
        scanner = ResidueScanner(checked.stores()).open()
        harness = cls(checked, scanner, processor_sink, settings, nodeid)
        harness.clause = clause or ""
        return harness

    def close(self) -> None:
        self.scanner.close()

    def run_property(
        self, strategy: Any, body: Callable[[T], None], floor: Sequence[T] = ()
    ) -> None:
        """Run ``body`` on the ``floor`` examples, then on examples drawn from ``strategy``.

        ``floor`` is a fixed scenario exercising every capability, so coverage
        never depends on a lucky draw; it runs first because a failure there
        needs no search and no shrinking. A failure found by hypothesis is then
        shrunk for at most ``shrink_seconds``.
        """
        __tracebackhide__ = True
        for example in floor:
            self.statistics.fixed_examples += 1
            try:
                body(example)
            except PrivacyViolation as violation:
                remaining = self.unaccepted(violation)
                if remaining is not None:
                    raise remaining.in_example(f"fixed scenario {example!r}") from None

        from hypothesis import given

        @self.hypothesis_settings()
        @given(strategy)
        def check(example: T) -> None:
            __tracebackhide__ = True
            self.statistics.generated_examples += 1
            try:
                body(example)
            except PrivacyViolation as violation:
                remaining = self.unaccepted(violation)
                if remaining is not None:
                    self.statistics.failing_examples += 1
                    # Hypothesis replays the shrunk example last, so this names the minimal one.
                    raise remaining.in_example(f"generated scenario {example!r}") from None

        # One example database entry per suite test, not one shared by every user's suite.
        check.hypothesis.inner_test._hypothesis_internal_add_digest = self.nodeid.encode()
        with shrink_budget(self.settings.shrink_seconds):
            check()

    def run_state_machine(
        self,
        factory: Callable[[], AdapterMachine],
        fixed_steps: Sequence[tuple[str, dict[str, Any]]],
        **extra: Any,
    ) -> None:
        """Run ``fixed_steps`` on a fresh machine, then let hypothesis search step sequences.

        The machine reaches the adapter by closure (``factory``), as
        ``run_state_machine_as_test`` expects, so shrinking and replay work.
        ``extra`` overrides the profile's settings, e.g. ``stateful_step_count``.
        """
        __tracebackhide__ = True
        from hypothesis.stateful import run_state_machine_as_test

        violation, ran = self._replay(factory, fixed_steps)
        self.statistics.fixed_examples += 1
        if violation is not None:
            raise self._reduced(factory, list(fixed_steps[:ran]), violation) from None

        def counted() -> Any:
            self.statistics.generated_examples += 1
            return factory()

        with shrink_budget(self.settings.shrink_seconds):
            run_state_machine_as_test(  # type: ignore[no-untyped-call]
                counted, settings=self.hypothesis_settings(**extra)
            )

    def _replay(
        self, factory: Callable[[], AdapterMachine], steps: Sequence[tuple[str, dict[str, Any]]]
    ) -> tuple[PrivacyViolation | None, int]:
        """Run ``steps`` on a fresh machine, checking its invariants after each step.

        Returns the violation (None if all held) and how many steps ran.
        """
        machine = factory()
        machine.origin = "fixed sequence"
        ran = 0
        try:
            machine.check_every_invariant()
            for name, arguments in steps:
                ran += 1
                getattr(machine, name)(**arguments)
                machine.check_every_invariant()
        except PrivacyViolation as violation:
            return self.unaccepted(violation), ran
        finally:
            machine.teardown()  # type: ignore[no-untyped-call]
        return None, ran

    def _reduced(
        self,
        factory: Callable[[], AdapterMachine],
        steps: list[tuple[str, dict[str, Any]]],
        violation: PrivacyViolation,
    ) -> PrivacyViolation:
        """The violation as the shortest sub-sequence of ``steps`` still shows it.

        Hypothesis shrinks what it finds; a failure of the fixed sequence is
        reduced here the same way (dropping runs of steps, halves first, then
        single steps), within the shrink budget, so the evidence names only the
        steps that matter.
        """
        deadline = time.monotonic() + self.settings.shrink_seconds
        chunk = max(1, len(steps) // 2)
        while time.monotonic() < deadline:
            shrunk = False
            start = len(steps) - chunk
            while start >= 0 and time.monotonic() < deadline:
                candidate = steps[:start] + steps[start + chunk :]
                try:
                    again, ran = self._replay(factory, candidate)
                except Exception:  # the shorter sequence broke differently: keep the step
                    again, ran = None, 0
                if again is not None and again.clause == violation.clause:
                    steps, violation, shrunk = candidate[:ran], again, True
                start = min(start, len(steps)) - chunk
            if not shrunk:
                if chunk == 1:
                    break
                chunk = max(1, chunk // 2)
        return violation

    def hypothesis_settings(self, **extra: Any) -> settings:
        """The run's hypothesis profile, with no deadline (a step drives a whole module),
        shrinking as configured and ``--privacy-max-examples`` if given."""
        from hypothesis import HealthCheck, Phase
        from hypothesis import settings as hypothesis_settings

        from ..profiles import profile_settings

        phases = [p for p in Phase if p != Phase.explain]
        if self.settings.shrink_seconds == 0:
            phases.remove(Phase.shrink)
        if self.settings.max_examples is not None:
            extra.setdefault("max_examples", self.settings.max_examples)
        return hypothesis_settings(
            profile_settings(self.settings.hypothesis_profile),
            deadline=None,
            phases=phases,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            **extra,
        )

    def unaccepted(self, violation: PrivacyViolation) -> PrivacyViolation | None:
        """The violation less the evidence the project accepted (None when all of it was)."""
        today = date.today()
        live = [a for a in self.settings.acceptances if not a.expired(today)]
        if not live or not violation.evidence:
            return violation
        kept = []
        for item in violation.evidence:
            if any(a.covers(violation.clause, item) for a in live):
                if item not in self.accepted:
                    self.accepted.append(item)
            else:
                kept.append(item)
        return violation.with_evidence(kept) if kept else None

    def used_retention(self, description: str) -> None:
        if description not in self.retentions_used:
            self.retentions_used.append(description)


@contextmanager
def shrink_budget(seconds: float) -> Iterator[None]:
    """Bound hypothesis's shrinking (five minutes by default) for expensive examples.

    Each example of a privacy check drives a whole module and scans every store,
    so the default bound can cost a CI job its timeout. Hypothesis reads this
    limit from a module constant; when a release moves it, the default applies.
    """
    try:
        from hypothesis.internal.conjecture import engine
    except ImportError:  # pragma: no cover - depends on the hypothesis release
        yield
        return
    previous = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if previous is None:  # pragma: no cover
        yield
        return
    engine.MAX_SHRINKING_SECONDS = seconds  # type: ignore[assignment]
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = previous
