"""What a privacy check works with: the checked adapter, its stores, the sinks, the settings.

Checks receive one ``PrivacyHarness`` instead of many fixtures. It only
holds: everything is given when it opens; what is set on it later is only
what the check records as it runs (statistics, retentions used, whether
clearing after each example still works).
Hypothesis runs inside the check through the runners beside this module
(``properties``, ``state_machines``), which reach the adapter by closure
rather than through pytest fixtures, so shrinking and replay work.
"""

from __future__ import annotations

from datetime import date

from ..contract.checked import (
    CheckedAdapter,
    require,
    require_settings_backed,
    validate_adapter,
)
from ..findings.evidence import Evidence
from ..findings.statistics import CheckStatistics
from ..observe.egress import EgressGuard
from ..observe.processor_sink import ProcessorSink
from ..people.persons import use_extra_fields
from ..scan import ResidueScanner
from ..settings import PrivacySettings
from .acceptance import AcceptanceFilter


class PrivacyHarness:
    def __init__(
        self,
        adapter: CheckedAdapter,
        scanner: ResidueScanner,
        processor_sink: ProcessorSink,
        egress: EgressGuard | None,
        settings: PrivacySettings,
        nodeid: str,
        clause: str,
    ) -> None:
        self.adapter = adapter
        self.scanner = scanner
        self.processor_sink = processor_sink
        self.egress = egress
        self.settings = settings
        self.nodeid = nodeid
        self.clause = clause
        self.statistics = CheckStatistics(shrink_seconds_limit=settings.shrink_seconds)
        self.retentions_used: list[str] = []
        self.acceptance = AcceptanceFilter(settings.acceptances, date.today())
        # Whether each example ends by deleting the accounts it left alive
        # (``checks/clearing.py``); off for the rest of the check once that fails.
        self.clears_out = True

    @classmethod
    def open(
        cls,
        adapter: object,
        processor_sink: ProcessorSink,
        egress: EgressGuard | None,
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
        checked = CheckedAdapter(adapter)  # a bad setting errors here, at setup, named
        # Every person the check mints carries the module's own identifiers too.
        use_extra_fields(checked.profile.extra_fields)
        if clause is not None:
            require(checked, needs, clause)
        require_settings_backed(checked, needs)
        scanner = ResidueScanner(
            checked.stores(), timeout=settings.call_timeout, reuse=not settings.rescan
        ).open()
        harness = cls(checked, scanner, processor_sink, egress, settings, nodeid, clause or "")
        harness.statistics.adapter_calls = checked.calls  # counted as the check drives the module
        scanner.statistics = harness.statistics  # each scan records what it read, per store
        return harness

    def close(self) -> None:
        self.scanner.close()
        use_extra_fields(())

    @property
    def accepted(self) -> list[Evidence]:
        """Evidence the project accepted so far, shown as accepted in every report."""
        return self.acceptance.accepted

    def used_retention(self, description: str) -> None:
        if description not in self.retentions_used:
            self.retentions_used.append(description)
