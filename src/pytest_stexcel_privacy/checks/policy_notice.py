"""Changes to this Statement: clause ``policy-notice``.

The policy promises notice of a significant change at the primary e-mail
address of each account. The check signs up people in every state the
promise distinguishes (subscribed, opted out, unsubscribed by link, an
e-mail changed, deleted, a refused child), calls the module's
``announce_policy_change()`` and reads the mail sink per envelope recipient,
so one message per person and one message to many (Bcc) count alike:

* every live account's current address receives a message that is not
  marketing (a notice needs no consent, so it cannot be marketing: that
  would have to stop at an opt-out);
* no address an account has left behind, no deleted person's address and no
  refused child's address (nor a message carrying the child's data) does.

:func:`notice_findings` is the judgement, shared with the lifecycle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from ..contract.adapter import RegistrationRejected
from ..contract.checked import MAIL_CAPABILITIES
from ..errors import CheckInconclusive
from ..findings.evidence import MAIL, Evidence
from ..findings.outcomes import NotApplicable, PrivacyViolation
from ..harness.holder import PrivacyHarness
from ..observe.mail_sink import MailMessage, MailSink
from ..people.persons import Person, assemble
from .children import mail_trace
from .mail_rules import MARKETING, AdapterMailRule, unsubscribe_links
from .module_clock import module_clock
from .people_model import Member, changed_profile
from .registry import privacy_check
from .script import Script

ANNOUNCE = "announce_policy_change()"
# The promises, as the ``location`` of their evidence (see Evidence.key).
NOTICE_MISSED = "policy-notice-missed"
NOTICE_TO_OLD_ADDRESS = "policy-notice-to-old-address"
NOTICE_TO_DELETED = "policy-notice-to-deleted"
NOTICE_TO_REFUSED_CHILD = "policy-notice-to-refused-child"


@dataclass(frozen=True)
class NoticeFinding:
    summary: str
    evidence: Evidence


def notice_findings(
    members: Sequence[Member],
    refused: Sequence[Person],
    messages: Sequence[MailMessage],
    kind_of: Callable[[MailMessage], str],
) -> list[NoticeFinding]:
    """What broke the promise in the mail ``announce_policy_change()`` sent."""
    current = {m.address: m for m in members if m.alive}
    received: dict[str, list[MailMessage]] = {}
    findings: list[NoticeFinding] = []
    for message in messages:
        for child in refused:
            trace = mail_trace(message, child, ANNOUNCE)
            if trace is not None:
                summary = "the policy-change notice reached a refused child"
                findings.append(
                    NoticeFinding(summary, replace(trace, location=NOTICE_TO_REFUSED_CHILD))
                )
        for address in message.recipients:
            if address in current:
                received.setdefault(address, []).append(message)
                continue
            owner = next((m for m in members if address in m.addresses), None)
            if owner is None:
                continue
            if owner.alive:
                summary = f"the policy-change notice went to {owner.label}'s old e-mail address"
                rule, role = NOTICE_TO_OLD_ADDRESS, "old address"
            else:
                summary = f"the policy-change notice reached {owner.label}, who was deleted"
                rule, role = NOTICE_TO_DELETED, "deleted"
            findings.append(NoticeFinding(summary, _evidence(owner, role, rule, message)))
    for address, member in current.items():
        got = received.get(address, [])
        if any(kind_of(m) != MARKETING for m in got):
            continue
        what = "only marketing-shaped mail" if got else "nothing"
        findings.append(
            NoticeFinding(
                f"the policy-change notice did not reach {member.label} ({member.status})",
                _evidence(
                    member,
                    member.status,
                    NOTICE_MISSED,
                    got[0] if got else None,
                    f"{what} reached their primary address during {ANNOUNCE}"
                    + (
                        " (a notice is not marketing: mark it X-Mail-Category: notice, "
                        "or answer 'notice' from classify_mail())"
                        if got
                        else ""
                    ),
                ),
            )
        )
    return findings


def _evidence(
    member: Member, role: str, rule: str, message: MailMessage | None, note: str = ""
) -> Evidence:
    parts = [f"{member.label} ({role}) in {ANNOUNCE}"]
    if message is not None:
        parts.append(message.describe())
    text = " ".join(parts) + (f" - {note}" if note else "")
    return Evidence(text=text, store=MAIL, location=rule, locator=role, step=ANNOUNCE)


class _Scenario(Script):
    """The script, with the children it saw refused and the adapter's mail rule."""

    def __init__(self, harness: PrivacyHarness, sink: MailSink) -> None:
        super().__init__(harness, sink)
        self.refused: list[Person] = []
        self.rule = AdapterMailRule(harness.adapter, self.timeout)

    def unsubscribe_by_link(self, member: Member) -> None:
        """Follow the unsubscribe link of the campaign's message to ``member``; without
        one, ``opt_out`` (a missing link is email-opt-out's finding)."""
        campaign = self.mail_of("send_marketing()", "send_marketing")
        marketing = [m for m in campaign if member.receives(m) and self.rule.kind(m) == MARKETING]
        link = None
        if marketing:
            links = unsubscribe_links(marketing[0])
            link = links.body or links.header_https
        if link:
            self.call(f"unsubscribe({member.label}, link)", "unsubscribe", link)
        else:
            self.call(f"opt_out({member.label})", "opt_out", member.account)
        member.subscribed = False

    def refuse_child(self, born: date) -> None:
        child = assemble(given="Casey", family="Young", birth_date=born)
        try:
            self.call("register(c0, a child)", "register", child)
        except RegistrationRejected:
            self.refused.append(child)
        else:  # the children clause's finding; the notice to them is not judged here
            self.steps[-1] += " signed up, not judged"


class PolicyNoticeChecks:
    """Checks for the policy's "Changes to this Statement" section."""

    @privacy_check(
        "policy-notice",
        needs=("register", "delete", *MAIL_CAPABILITIES, "announce_policy_change"),
    )
    def test_policy_change_notice_reaches_every_account(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """Every account's primary e-mail receives the notice, subscribed, opted out or
        unsubscribed; after an e-mail change only the new address; no deleted person and
        no refused child."""
        __tracebackhide__ = True
        harness = privacy_harness
        if not harness.adapter.profile.sends_email:
            raise NotApplicable(
                f"{harness.adapter.name} declares sends_email = False: no e-mail can carry "
                "the notice"
            )
        scenario = _Scenario(harness, mail_sink)
        with module_clock(harness) as clock:
            today = clock.real_today()
            with clock.on(today):
                messages = self._announce(scenario, date(today.year - 30, 1, 1), today)
        findings = notice_findings(scenario.members, scenario.refused, messages, scenario.rule.kind)
        if findings:
            more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
            harness.acceptance.enforce(
                PrivacyViolation(
                    "policy-notice",
                    findings[0].summary + more,
                    [f.evidence for f in findings],
                    scenario.example(),
                )
            )

    @staticmethod
    def _announce(scenario: _Scenario, born: date, today: date) -> list[MailMessage]:
        """Drive every state the promise distinguishes, prove the module's mail is seen,
        and return what ``announce_policy_change()`` sent."""
        subscribed = scenario.join(born)
        opted_out = scenario.join(born)
        scenario.call(f"opt_out({opted_out.label})", "opt_out", opted_out.account)
        opted_out.subscribed = False
        scenario.unsubscribe_by_link(scenario.join(born))
        if scenario.adapter.implements("update_profile"):
            moved = scenario.join(born)
            changed = changed_profile(moved.person, "email")
            step = f"update_profile({moved.label}, email)"
            scenario.call(step, "update_profile", moved.account, changed)
            moved.now_holds(changed)
        deleted = scenario.join(born)
        scenario.call(f"delete({deleted.label})", "delete", deleted.account)
        deleted.deleted = True
        scenario.refuse_child(date(today.year - 9, 1, 1))
        # a positive control: the suite sees the module's mail to the people it signed up
        label = subscribed.label
        control = scenario.mail_of(
            f"send_transactional({label})", "send_transactional", subscribed.account
        )
        if not any(subscribed.receives(m) for m in control):
            raise CheckInconclusive(
                f"{scenario.adapter.name}.send_transactional() sent nothing the mail sink saw "
                f"to {label}, so a notice that never arrives could not be told from mail the "
                "suite cannot see. Does the module send to the mail_sink?"
            )
        return scenario.mail_of(ANNOUNCE, "announce_policy_change")
