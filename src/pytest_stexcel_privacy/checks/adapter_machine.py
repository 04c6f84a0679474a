"""What every state machine driving an adapter shares, and what the harness relies on.

``PrivacyHarness.run_state_machine`` replays a fixed sequence on a fresh
machine, marks it as such through ``origin``, checks ``check_every_invariant``
after each step, and reduces a failure by replaying shorter sequences; the
steps recorded here become the evidence of a violation.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis.stateful import RuleBasedStateMachine

from ..findings.evidence import Evidence
from ..findings.outcomes import PrivacyViolation
from ..harness.holder import PrivacyHarness
from ..observe.mail_sink import MailSink
from .mail_rules import AdapterMailRule


class AdapterMachine(RuleBasedStateMachine):
    def __init__(self, harness: PrivacyHarness, sink: MailSink) -> None:
        super().__init__()
        self.harness = harness
        self.adapter = harness.adapter
        self.sink = sink
        self.steps: list[str] = []
        self.origin = "generated sequence"
        self.seen = sink.mark()  # mail before this machine started is not its concern
        self.mail_rule = AdapterMailRule(harness.adapter)

    def check_every_invariant(self) -> None:
        """Every invariant, for runs that drive the rules directly (the fixed sequence)."""

    def fail(self, clause: str, summary: str, evidence: Sequence[str | Evidence]) -> None:
        """Raise the violation, with the steps so far, unless the project accepted it all."""
        violation = self.harness.unaccepted(
            PrivacyViolation(clause, summary, evidence, f"{self.origin}: " + "; ".join(self.steps))
        )
        if violation is not None:
            raise violation
