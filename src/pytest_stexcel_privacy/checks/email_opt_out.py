"""E-mail Communications: clause ``email-opt-out``.

A hypothesis state machine drives the module through sign-ups, opt-outs,
unsubscribe links, opt-ins, profile changes, re-imports, deletions,
campaigns and transactional mail, and keeps a model of who should receive
marketing. Every message the module sends reaches the real SMTP sink; after
each step the sink's mail is judged against the model. A failure names the
step sequence (shrunk by hypothesis) and the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from ..contract.adapter import RegistrationRejected
from ..errors import AdapterCallError, AdapterCallTimeout, CheckInconclusive
from ..harness.holder import PrivacyHarness
from ..harness.state_machines import GENERATED, Step, run_state_machine
from ..observe.mail_sink import MailMessage, MailSink
from .adapter_machine import AdapterMachine
from .mail_rules import (
    CAMPAIGN_MISSED,
    MARKETING,
    NO_WORKING_UNSUBSCRIBE,
    NOTICE,
    SERVICE_MAIL_MISSING,
    TRANSACTIONAL,
    unsubscribe_links,
    unsubscribe_problems,
)
from .people_model import AS_IS, EMAIL_SPELLINGS, Member, named_person, spelled
from .registry import privacy_check
from .silent_mail import prove_no_mail_is_sent

MAX_PEOPLE = 5


@dataclass
class Sightings:
    """What every machine of one check has seen: the positive control of the campaigns."""

    marketing: bool = False  # some marketing reached someone a machine signed up


class OptOutMachine(AdapterMachine):
    """The model: each member is subscribed, opted out or deleted."""

    def __init__(
        self,
        harness: PrivacyHarness,
        sink: MailSink,
        origin: str = GENERATED,
        sightings: Sightings | None = None,
    ) -> None:
        super().__init__(harness, sink, origin)
        self.sightings = sightings or Sightings()

    # --- helpers ------------------------------------------------------------------------

    def _judged_mail(self) -> list[MailMessage]:
        messages = self._new_mail()
        for message in messages:
            self._judge(message)
        return messages

    def _owner(self, message: MailMessage) -> list[Member]:
        return [m for m in self.members if m.receives(message)]

    def _kind(self, message: MailMessage) -> str:
        return self.mail_rule.kind(message)

    def _judge(self, message: MailMessage) -> None:
        """Who it may reach (the machines' shared rule); marketing needs a working
        unsubscribe."""
        kind = self._judge_recipients(message)
        if kind != MARKETING:
            return
        strict = self.adapter.profile.require_list_unsubscribe_headers
        problems = "; ".join(unsubscribe_problems(message, require_headers=strict))
        if problems:
            recipient = self._owner(message)[0]
            self.fail(
                "email-opt-out",
                "marketing message without a working unsubscribe",
                [self._mail_evidence(message, NO_WORKING_UNSUBSCRIBE, recipient, problems)],
            )

    # --- rules --------------------------------------------------------------------------

    @precondition(lambda self: len(self.members) < MAX_PEOPLE)
    @rule()
    def register(self) -> None:
        index = len(self.members)
        person = named_person(index, plus_tag="shop" if index == 2 else None)
        self._join(f"p{index}", person)
        self._judged_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1))
    def opt_out(self, index: int) -> None:
        member = self._pick(index)
        if member is None:
            return
        self.steps.append(f"opt_out({member.label})")
        self._call("opt_out", member.account)
        member.subscribed = False
        self._judged_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1))
    def opt_in(self, index: int) -> None:
        member = self._pick(index)
        if member is None or not self.adapter.implements("opt_in"):
            return
        self.steps.append(f"opt_in({member.label})")
        self._call("opt_in", member.account)
        member.subscribed = True
        self._judged_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1), visible=st.booleans())
    def unsubscribe_by_link(self, index: int, visible: bool) -> None:
        member = self._pick(index)
        if member is None or member.last_marketing is None:
            return
        links = unsubscribe_links(member.last_marketing)
        link = (links.body if visible else links.header_https) or links.body or links.header_https
        if link is None:
            return  # already reported when the message arrived
        where = "body" if link == links.body else "List-Unsubscribe"
        self.steps.append(f"unsubscribe({member.label}, {where} link)")
        self._call("unsubscribe", link)
        member.subscribed = False
        self._judged_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1), change=st.sampled_from(["email-case", "name"]))
    def update_profile(self, index: int, change: str) -> None:
        member = self._pick(index)
        if member is None or not self.adapter.implements("update_profile"):
            return
        self._change_profile(member, change)
        self._judged_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1), spelling=st.sampled_from(EMAIL_SPELLINGS))
    def reimport(self, index: int, spelling: str) -> None:
        """Import a member again, their address perhaps spelt in another case or padded
        with spaces: the same address, so the same person and the same consent. A module
        refusing such a spelling is not wrong: that step is then not driven."""
        member = self._pick(index)
        if member is None or not self.adapter.implements("reimport"):
            return
        email, how = spelled(member.person.email, spelling)
        self.steps.append(f"reimport({member.label}{how and f', {how}'})")
        try:
            self._call("reimport", member.person.changed(email=email))
        except (RegistrationRejected, AdapterCallError) as exc:
            if spelling == AS_IS or isinstance(exc, AdapterCallTimeout):
                raise
            self.steps[-1] += " refused, not driven"
        self._judged_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1))
    def delete(self, index: int) -> None:
        member = self._pick(index)
        if member is None:
            return
        self.steps.append(f"delete({member.label})")
        self._call("delete", member.account)
        member.deleted = True
        self.deleting = member  # its receipt may still reach them
        try:
            self._judged_mail()
        finally:
            self.deleting = None

    @rule()
    def campaign(self) -> None:
        self.steps.append("send_marketing()")
        self._call("send_marketing")
        messages = self._judged_mail()
        marketing = [m for m in messages if self._owner(m) and self._kind(m) == MARKETING]
        self.sightings.marketing = self.sightings.marketing or bool(marketing)
        subscribed = [m for m in self.members if m.alive and m.subscribed]
        if subscribed and not self.sightings.marketing:
            # a positive control, not a violation: no marketing seen in the whole check means
            # the suite cannot see it (once it has, a campaign missing a subscriber is a
            # finding: e.g. a forged link unsubscribed them)
            raise CheckInconclusive(
                f"{self.adapter.name}.send_marketing() sent no marketing the suite could see "
                f"to anyone it signed up ({len(messages)} message(s) arrived), so no opt-out "
                "can be checked. Does the module send its campaigns to the mail_sink, and "
                "does the campaign go to every subscribed account?"
            )
        for member in self.members:
            if member.deleted or not member.subscribed:
                continue
            if not any(member.receives(m) for m in marketing):
                sent = "; ".join(m.describe() for m in messages[:10])
                self.fail(
                    "email-opt-out",
                    f"the campaign did not reach {member.label}, who is subscribed"
                    + ("" if marketing else " (it reached none of the subscribed people)"),
                    [
                        self._mail_evidence(
                            None,
                            CAMPAIGN_MISSED,
                            member,
                            f"{len(messages)} message(s) sent during send_marketing()"
                            + (f": {sent}" if sent else ""),
                        )
                    ],
                )

    @rule(index=st.integers(0, MAX_PEOPLE - 1))
    def transactional(self, index: int) -> None:
        member = self._pick(index)
        if member is None:
            return
        self.steps.append(f"send_transactional({member.label})")
        self._call("send_transactional", member.account)
        messages = [m for m in self._judged_mail() if member.receives(m)]
        if not self.adapter.profile.require_service_mail_after_opt_out:
            return  # stricter than the policy: only when the adapter asks for it
        if not any(self._kind(m) in (TRANSACTIONAL, NOTICE) for m in messages):
            sent = "; ".join(m.describe() for m in messages) or "nothing was sent to them"
            self.fail(
                "email-opt-out",
                f"a non-marketing message to {member.label} ({member.status}) never arrived: "
                "opting out of marketing must not block service mail",
                [self._mail_evidence(None, SERVICE_MAIL_MISSING, member, sent)],
            )

    @rule(owner_index=st.integers(0, MAX_PEOPLE - 1), victim_index=st.integers(0, MAX_PEOPLE - 1))
    def forge_link(self, owner_index: int, victim_index: int) -> None:
        """Edit one person's unsubscribe link to name someone else, or tamper its token."""
        owner, victim = self._pick(owner_index), self._pick(victim_index)
        if owner is None or victim is None or owner.last_marketing is None:
            return
        link = unsubscribe_links(owner.last_marketing).header_https
        link = link or unsubscribe_links(owner.last_marketing).body
        if link is None:
            return
        forged = retarget(link, owner, victim) if victim is not owner else None
        how = f"{owner.label}'s link edited to name {victim.label}"
        if forged is None or forged == link:
            forged, how = tamper(link), f"{owner.label}'s link with its token altered"
        self.steps.append(f"unsubscribe(forged: {how})")
        try:
            self._call("unsubscribe", forged)
        except AdapterCallTimeout:
            raise  # a hang is not a refusal
        except (AdapterCallError, AssertionError):
            pass  # refusing it, loudly or not, is the module's job
        self._judged_mail()


def retarget(link: str, owner: Member, victim: Member) -> str | None:
    """The link with the owner's account id or e-mail replaced by the victim's."""
    swaps = [(owner.address, victim.address), (quote(owner.address), quote(victim.address))]
    swaps.append((quote(owner.address, safe=""), quote(victim.address, safe="")))
    for old, new in swaps:
        if old and old in link:
            return link.replace(old, new)
    owner_id, victim_id = str(owner.account), str(victim.account)
    pattern = rf"(?<![0-9A-Za-z]){re.escape(owner_id)}(?![0-9A-Za-z])"
    if owner_id != victim_id and re.search(pattern, link):
        return re.sub(pattern, victim_id, link)
    return None


def tamper(link: str) -> str:
    """Change the last letter or digit of the link's longest query value (its token)."""
    values = re.findall(r"[=/]([A-Za-z0-9_\-]{8,})", link)
    token = max(values, key=len) if values else link[-1]
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    head, _, tail = link.rpartition(token)
    return head + flipped + tail


# The same sequence every run, before the search: every capability, every promise once.
FIXED_SEQUENCE: tuple[Step, ...] = (
    Step(OptOutMachine.register),
    Step(OptOutMachine.register),
    Step(OptOutMachine.register),
    Step(OptOutMachine.register),
    Step(OptOutMachine.campaign),
    Step(OptOutMachine.unsubscribe_by_link, index=0, visible=True),
    Step(OptOutMachine.opt_out, index=1),
    Step(OptOutMachine.forge_link, owner_index=2, victim_index=3),
    Step(OptOutMachine.forge_link, owner_index=3, victim_index=3),
    Step(OptOutMachine.campaign),
    Step(OptOutMachine.transactional, index=1),
    Step(OptOutMachine.update_profile, index=1, change="email-case"),
    Step(OptOutMachine.reimport, index=1, spelling="upper-case"),
    Step(OptOutMachine.campaign),
    Step(OptOutMachine.opt_in, index=0),
    Step(OptOutMachine.reimport, index=1, spelling="padded"),
    Step(OptOutMachine.reimport, index=1, spelling="mixed-case"),
    Step(OptOutMachine.campaign),
    Step(OptOutMachine.unsubscribe_by_link, index=2, visible=False),
    Step(OptOutMachine.delete, index=3),
    Step(OptOutMachine.campaign),
    Step(OptOutMachine.transactional, index=0),
)


class EmailOptOutChecks:
    """Checks for the policy's "E-mail Communications" section."""

    @privacy_check(
        "email-opt-out",
        needs=(
            "register",
            "delete",
            "opt_out",
            "unsubscribe",
            "send_marketing",
            "send_transactional",
            "stores",
        ),
    )
    def test_opt_outs_hold_over_any_sequence(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """Marketing carries a working unsubscribe; after an opt-out or unsubscribe no
        marketing reaches the person, whatever happens next; nothing reaches a deleted
        person but the receipt of their deletion; a forged or tampered link unsubscribes
        nobody (and, with the stricter settings, marketing carries the List-Unsubscribe
        headers and service mail still arrives after an opt-out)."""
        __tracebackhide__ = True
        harness = privacy_harness
        if not harness.adapter.profile.sends_email:
            prove_no_mail_is_sent(harness, mail_sink)

        sightings = Sightings()

        def factory(origin: str) -> OptOutMachine:
            return OptOutMachine(harness, mail_sink, origin, sightings)

        run_state_machine(harness, factory, FIXED_SEQUENCE, stateful_step_count=20)
