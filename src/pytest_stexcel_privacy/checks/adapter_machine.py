"""What every state machine driving an adapter shares: the people it signed up, the calls.

The harness's state-machine runner builds a machine per run, naming its
``origin`` (the fixed sequence or a generated one); the steps a machine
records become the evidence of a violation. Its model of people is
:class:`~.people_model.Member`, the same for every machine, and so is the
judging of who a message may reach (:meth:`AdapterMachine._judge_recipients`).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ..contract.adapter import RegistrationRejected
from ..errors import AdapterCallError, AdapterCallTimeout, CheckInconclusive
from ..findings.evidence import MAIL, Evidence
from ..findings.masking import mask
from ..findings.outcomes import PrivacyViolation
from ..harness.holder import PrivacyHarness
from ..harness.state_machines import GENERATED, RecordingMachine
from ..observe.mail_sink import MailMessage, MailSink
from ..people.persons import Person
from .clearing import clear_out
from .mail_rules import (
    MAIL_AFTER_DELETION,
    MARKETING,
    MARKETING_AFTER_OPT_OUT,
    NOTICE,
    AdapterMailRule,
)
from .people_model import Member, changed_profile, normal_address
from .silent_mail import MAIL_WHILE_SILENT


class AdapterMachine(RecordingMachine):
    def __init__(self, harness: PrivacyHarness, sink: MailSink, origin: str = GENERATED) -> None:
        super().__init__()
        self.harness = harness
        self.adapter = harness.adapter
        self.sink = sink
        self.origin = origin
        self.steps: list[str] = []
        self.members: list[Member] = []
        # e-mails opted out when their owner was deleted (opt_out_survives_deletion only)
        self.suppressed: set[str] = set()
        self.seen = sink.mark()  # mail before this machine started is not its concern
        self.mail_rule = AdapterMailRule(harness.adapter, harness.settings.call_timeout)
        self.deleting: Member | None = None  # whose delete() the mail being judged follows

    # --- driving the module -------------------------------------------------------------

    def _after_run(self) -> None:
        """Delete whom this run signed up and left alive (``clearing.py``)."""
        clear_out(self.harness, [m.account for m in self.members if m.alive], self._call)

    def _call(self, method: str, *args: Any) -> Any:
        with self._module_clock(method):
            try:
                return self.adapter.call_within(self.harness.settings.call_timeout, method, *args)
            except AdapterCallTimeout:
                self.harness.clears_out = False  # a hung module is not kept waiting again
                raise

    def _module_clock(self, method: str) -> AbstractContextManager[object]:
        """The time the module sees during a call to ``method``: real time, unless a
        machine keeps a date the call is judged by."""
        return nullcontext()

    def _join(
        self, label: str, person: Person, note: str = "", *, variant: bool = False
    ) -> Member | None:
        """Sign ``person`` up as an adult; a refusal leaves the machine nothing to test.
        With ``variant`` (their address spelt in another case, or padded with spaces), a
        module refusing it, or calling it invalid, is not wrong: None, nothing driven."""
        self.steps.append(f"register({label}, {note})" if note else f"register({label})")
        try:
            account = self._call("register", person)
        except (RegistrationRejected, AdapterCallError) as exc:
            if variant and not isinstance(exc, AdapterCallTimeout):
                self.steps[-1] += " refused, not driven"
                return None
            if not isinstance(exc, RegistrationRejected):
                raise
            raise CheckInconclusive(
                f"{self.adapter.name}.register() refused an adult ({label}): {exc}"
            ) from exc
        address = normal_address(person.email)
        wants = self.mail_rule.marketing_by_default and address not in self.suppressed
        member = Member(label, person, account, subscribed=wants)
        self.members.append(member)
        return member

    def _change_profile(self, member: Member, change: str) -> None:
        changed = changed_profile(member.person, change)
        address = normal_address(changed.email)
        if any(
            normal_address(m.person.email) == address
            for m in self.members
            if m.alive and m is not member
        ):
            return  # another live account holds that address: a module may rightly refuse
        self.steps.append(f"update_profile({member.label}, {change})")
        self._call("update_profile", member.account, changed)
        member.now_holds(changed)

    def _pick(self, index: int, *, alive: bool = True) -> Member | None:
        pool = [m for m in self.members if m.alive == alive]
        return pool[index % len(pool)] if pool else None

    def _new_mail(self) -> list[MailMessage]:
        """The mail that arrived since the last look, once the module stopped sending."""
        messages = self.sink.settle(self.seen, quiet=self.harness.settings.mail_settle)
        self.seen += len(messages)
        return messages

    # --- judging mail -------------------------------------------------------------------

    def _judge_recipients(self, message: MailMessage) -> str | None:
        """Judge who ``message`` reached: nothing reaches a deleted person (but a notice
        may reach them during their own ``delete()``: the receipt), no marketing reaches
        anyone opted out. Returns its kind, None when it reached nobody the machine signed
        up; the last marketing each received is kept for its unsubscribe links."""
        owners = [m for m in self.members if m.receives(message)]
        if not owners:
            return None
        if not self.harness.adapter.profile.sends_email:
            self.fail(
                "email-opt-out",
                f"mail reached {owners[0].label}, though the adapter declares sends_email = False",
                [self._mail_evidence(message, MAIL_WHILE_SILENT, owners[0])],
            )
        # an address a live member holds again is theirs now; a notice during a delete()
        # is the receipt of the member being deleted, whoever held the address before
        receipt = self.deleting in owners and self.mail_rule.kind(message) == NOTICE
        gone = [] if receipt or any(o.alive for o in owners) else owners
        for owner in gone:
            self.fail(
                "email-opt-out",
                f"mail reached {owner.label} after they were deleted",
                [self._mail_evidence(message, MAIL_AFTER_DELETION, owner)],
            )
        kind = self.mail_rule.kind(message)
        if kind != MARKETING:
            return kind
        for owner in owners:
            if owner.alive and not owner.subscribed:
                self.fail(
                    "email-opt-out",
                    f"marketing reached {owner.label}, who opted out",
                    [self._mail_evidence(message, MARKETING_AFTER_OPT_OUT, owner)],
                )
            owner.last_marketing = message
        return kind

    def _step(self) -> str:
        """The step the machine is in, by the adapter method it drives: ``delete()``."""
        return f"{self.steps[-1].partition('(')[0]}()" if self.steps else "start"

    def _mail_evidence(
        self, message: MailMessage | None, rule: str, member: Member | None, note: str = ""
    ) -> Evidence:
        """Evidence known by the rule, the role of the person and the step, the same in
        every run; the message itself (recipients and unsubscribe targets masked) is only
        in its text."""
        role = member.status if member is not None else "nobody"
        parts = [f"{member.label} ({role})" if member is not None else "", f"in {self._step()}"]
        if message is not None:
            parts.append(message.describe())
            headers = [
                f"{name}: {shown(message.header(name))!r}"
                for name, shown in (("list-unsubscribe", mask), ("list-unsubscribe-post", str))
                if message.header(name)
            ]
            parts.append(f"[{', '.join(headers)}]" if headers else "")
        text = " ".join(p for p in parts if p) + (f" - {note}" if note else "")
        return Evidence(text=text, store=MAIL, location=rule, locator=role, step=self._step())

    # --- reporting ----------------------------------------------------------------------

    def fail(self, clause: str, summary: str, evidence: Sequence[str | Evidence]) -> None:
        """File a violation with the steps so far, less what the project accepted, and go
        on to the next observation: the first violation of each clause is raised when the
        run ends (``RecordingMachine.teardown``), so one finding never hides another; an
        accepted finding is never filed again under another clause."""
        example = f"{self.origin}: " + "; ".join(self.steps)
        try:
            self.harness.acceptance.enforce(PrivacyViolation(clause, summary, evidence, example))
        except PrivacyViolation as kept:
            self.record(kept)
