"""What a privacy check works with: the checked adapter, its stores, the sinks, the settings.

Checks receive one ``PrivacyHarness`` instead of many fixtures. Hypothesis
properties run *inside* the check through :meth:`PrivacyHarness.run_property`,
with the adapter reached by closure rather than through pytest fixtures, so
shrinking and replay work (the way ``run_state_machine_as_test`` does it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .contract import CheckedAdapter, require, validate_adapter
from .processor_sink import ProcessorSink
from .scan import ResidueScanner

T = TypeVar("T")


@dataclass(frozen=True)
class PrivacySettings:
    max_examples: int = 20
    processor_timeout: float = 2.0


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
        checked = CheckedAdapter(adapter)
        scanner = ResidueScanner(checked.stores()).open()
        return cls(checked, scanner, processor_sink, settings, nodeid)

    def close(self) -> None:
        self.scanner.close()

    def run_property(
        self, strategy: Any, body: Callable[[T], None], floor: Sequence[T] = ()
    ) -> None:
        """Run ``body`` for examples drawn from ``strategy`` until one fails (then shrink it).

        ``floor`` examples run afterwards, outside hypothesis: a fixed scenario
        exercising every capability, so coverage never depends on a lucky draw.
        """
        __tracebackhide__ = True
        from hypothesis import HealthCheck, given, settings

        @settings(
            max_examples=self.settings.max_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(strategy)
        def check(example: T) -> None:
            __tracebackhide__ = True
            body(example)

        # One example database entry per suite test, not one shared by every user's suite.
        check.hypothesis.inner_test._hypothesis_internal_add_digest = self.nodeid.encode()
        check()
        for example in floor:
            body(example)
