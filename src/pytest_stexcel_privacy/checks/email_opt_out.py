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

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from ..contract.adapter import RegistrationRejected
from ..errors import AdapterCallError, AdapterCallTimeout, CheckInconclusive
from ..findings.masking import mask
from ..harness.holder import PrivacyHarness
from ..harness.state_machines import GENERATED, Step, run_state_machine
from ..observe.mail_sink import MailMessage, MailSink
from .adapter_machine import AdapterMachine
from .forged_links import (
    BLANK_SIGNATURE,
    DECREMENT,
    DROP_SIGNATURE,
    FORGED_LINK_UNSUBSCRIBED,
    FORGERIES,
    INCREMENT,
    REPLAY,
    RETARGET,
    SWAP,
    TAMPER,
    Forgery,
    numeric_edits,
    retarget,
    signature_edits,
    swaps,
    tamper,
)
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
        self.reached: set[str] = set()  # who the last campaign reached
        self.reached_at = 0  # the number of steps when it was sent

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
        self._campaign()

    def _campaign(
        self, forged: Forgery | None = None, recipients: frozenset[str] = frozenset()
    ) -> None:
        """Send a campaign; every subscribed member must receive it. After a ``forged``
        link, a member it missed who received the last campaign (and was not touched
        since) was unsubscribed by that link: a failure unless they are among its
        ``recipients``, who may have been (the model follows)."""
        before = self._untouched_since_last_campaign()
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
        self.reached = {m.label for m in self.members if any(m.receives(x) for x in marketing)}
        self.reached_at = len(self.steps)
        for member in self.members:
            if member.deleted or not member.subscribed or member.label in self.reached:
                continue
            if forged is not None and member.label in recipients:
                member.subscribed = False  # its own recipient: allowed to unsubscribe them
                continue
            if forged is not None and member.label in before:
                self._unsubscribed_by(forged, member)
                continue
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

    def _unsubscribed_by(self, forged: Forgery, member: Member) -> None:
        self.fail(
            "email-opt-out",
            f"a forged unsubscribe link unsubscribed {member.label}, who was not its recipient",
            [
                self._mail_evidence(
                    None,
                    FORGED_LINK_UNSUBSCRIBED,
                    member,
                    f"forged link {mask(forged.link)} ({forged.how}); the campaign before it "
                    "reached them, the one right after it did not",
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

    @rule(
        owner_index=st.integers(0, MAX_PEOPLE - 1),
        victim_index=st.integers(0, MAX_PEOPLE - 1),
        forgery=st.sampled_from(FORGERIES),
        choice=st.integers(0, 7),
    )
    def forge_link(self, owner_index: int, victim_index: int, forgery: str, choice: int) -> None:
        """Forge an unsubscribe link from the owner's own (and, for a swap, the victim's)
        as an attacker would, follow it, and prove by the next campaign that it
        unsubscribed nobody but its recipient (a refusal is the module's job)."""
        owner, victim = self._pick(owner_index), self._pick(victim_index)
        if owner is None or victim is None:
            return
        link = self._link_of(owner)
        if link is None:
            return
        if forgery == REPLAY and self.adapter.implements("opt_in"):
            self.opt_in(owner_index)  # subscribed again: the old link must still name only them
        attempt = self._forgery(forgery, choice, owner, victim, link)
        self.steps.append(f"unsubscribe(forged: {attempt.how})")
        try:
            self._call("unsubscribe", attempt.link)
        except AdapterCallTimeout:
            raise  # a hang is not a refusal
        except (AdapterCallError, AssertionError):
            pass  # refusing it, loudly or not, is the module's job
        self._judged_mail()
        recipients = {owner.label} | ({victim.label} if attempt.signed_by_other else set())
        if any(m.alive and m.subscribed for m in self.members):
            self._campaign(attempt, frozenset(recipients))

    def _link_of(self, member: Member) -> str | None:
        if member.last_marketing is None:
            return None
        links = unsubscribe_links(member.last_marketing)
        return links.header_https or links.body

    def _forgery(
        self, forgery: str, choice: int, owner: Member, victim: Member, link: str
    ) -> Forgery:
        """The ``choice``-th candidate of one kind of forgery; when the kind does not apply
        to this link, its token altered."""
        label = owner.label
        if forgery == REPLAY:
            return Forgery(f"{label}'s own link replayed", link)
        if forgery == RETARGET and victim is not owner:
            ids = (str(owner.account), str(victim.account))
            forged = retarget(link, owner.address, victim.address, *ids)
            if forged is not None and forged != link:
                return Forgery(f"{label}'s link edited to name {victim.label}", forged)
        candidates: list[Forgery] = []
        if forgery in (INCREMENT, DECREMENT):
            candidates = numeric_edits(link, label, 1 if forgery == INCREMENT else -1)
        elif forgery in (DROP_SIGNATURE, BLANK_SIGNATURE):
            candidates = signature_edits(link, label, blank=forgery == BLANK_SIGNATURE)
        elif forgery == SWAP:
            other = self._link_of(victim) if victim is not owner else None
            candidates = swaps(link, other, label, victim.label) if other else []
        if candidates:
            return candidates[choice % len(candidates)]
        return Forgery(f"{label}'s link with its token altered", tamper(link))

    def _untouched_since_last_campaign(self) -> set[str]:
        """Who received the last campaign and has not been named by a step since (a
        forged link's own step aside)."""
        later = [s for s in self.steps[self.reached_at :] if not s.startswith("unsubscribe(forged")]
        return {
            label
            for label in self.reached
            if not any(re.search(rf"\b{label}\b", step) for step in later)
        }


# The same sequence every run, before the search: every capability, every promise once.
FIXED_SEQUENCE: tuple[Step, ...] = (
    Step(OptOutMachine.register),
    Step(OptOutMachine.register),
    Step(OptOutMachine.register),
    Step(OptOutMachine.register),
    Step(OptOutMachine.campaign),
    Step(OptOutMachine.unsubscribe_by_link, index=0, visible=True),
    Step(OptOutMachine.opt_out, index=1),
    Step(OptOutMachine.forge_link, owner_index=2, victim_index=3, forgery=INCREMENT, choice=0),
    Step(OptOutMachine.forge_link, owner_index=2, victim_index=3, forgery=RETARGET, choice=0),
    Step(OptOutMachine.forge_link, owner_index=3, victim_index=3, forgery=TAMPER, choice=0),
    Step(OptOutMachine.forge_link, owner_index=3, victim_index=2, forgery=DECREMENT, choice=0),
    Step(OptOutMachine.forge_link, owner_index=2, victim_index=3, forgery=DROP_SIGNATURE, choice=0),
    Step(OptOutMachine.forge_link, owner_index=2, victim_index=3, forgery=SWAP, choice=0),
    Step(OptOutMachine.campaign),
    Step(OptOutMachine.transactional, index=1),
    Step(OptOutMachine.update_profile, index=1, change="email-case"),
    Step(OptOutMachine.reimport, index=1, spelling="upper-case"),
    Step(OptOutMachine.campaign),
    Step(OptOutMachine.opt_in, index=0),
    Step(OptOutMachine.reimport, index=1, spelling="padded"),
    Step(OptOutMachine.reimport, index=1, spelling="mixed-case"),
    Step(OptOutMachine.campaign),
    Step(OptOutMachine.forge_link, owner_index=2, victim_index=2, forgery=REPLAY, choice=0),
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
        cost=1,
    )
    def test_opt_outs_hold_over_any_sequence(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """Marketing carries a working unsubscribe; after an opt-out or unsubscribe no
        marketing reaches the person, whatever happens next; nothing reaches a deleted
        person but the receipt of their deletion; a link forged from someone's own
        unsubscribes nobody else (and, with the stricter settings, marketing carries the
        List-Unsubscribe headers and service mail still arrives after an opt-out)."""
        __tracebackhide__ = True
        harness = privacy_harness
        if not harness.adapter.profile.sends_email:
            prove_no_mail_is_sent(harness, mail_sink)

        sightings = Sightings()

        def factory(origin: str) -> OptOutMachine:
            return OptOutMachine(harness, mail_sink, origin, sightings)

        run_state_machine(harness, factory, FIXED_SEQUENCE, stateful_step_count=20)
