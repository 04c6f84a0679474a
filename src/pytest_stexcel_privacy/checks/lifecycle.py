"""The whole lifecycle as one stateful property: ``PrivacyLifecycle``.

Single-clause checks drive one feature at a time; the bugs that live
between features need sequences: an opt-out lost when a deleted person
signs up again, a card number copied on a second purchase, an order placed
after an e-mail change that deletion misses, a refused child picked up by a
nightly job. The machine drives every capability the adapter has, keeps a
model of who is live, deleted, refused and opted out, and after every step
checks every promise at once, each violation filed under its own clause:

* no residue of a deleted person or a refused child in any store;
* no marketing to anyone opted out, nothing at all to a deleted person
  (but the notice of their own deletion);
* no full card number at rest once its purchase has completed;
* no connection to a destination not shown to be in the US;
* providers receive only what their declaration allows, and a site a person
  disconnected nothing more of theirs (``lifecycle_sharing.py``).
* a policy-change notice (when the adapter can announce one) reaches every
  live account's address now, and nobody deleted, left behind or refused.

Each step's scan is bounded: it searches only the needles of the few
persons the model says must be gone, so its cost does not grow with the
length of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from ..contract.adapter import RegistrationRejected
from ..findings.evidence import Evidence
from ..harness.holder import PrivacyHarness
from ..harness.state_machines import GENERATED, Step, run_state_machine
from ..observe.mail_sink import MailSink
from ..people.ages import MINIMUM_AGE, verdict
from ..people.needles import Needle
from ..people.persons import Person, assemble
from ..scan import Hit
from ..scan.matcher import NeedleMatcher
from .children import connected_since, mail_trace, sent_since
from .lifecycle_sharing import SiteSharingMachine
from .mail_rules import unsubscribe_links
from .module_clock import ModuleClock, module_clock
from .people_model import AS_IS, EMAIL_SPELLINGS, PROFILE_CHANGES, Member, named_person, spelled
from .policy_notice import ANNOUNCE, notice_findings
from .registry import privacy_check
from .retention_rules import covers_location, sound_retentions
from .us_storage import connection_evidence

MAX_ADULTS = 4
MAX_CHILDREN = 2
# Days to years: a nightly job, a month-end run, a birthday, a retention period.
TIME_STEPS = (1, 30, 365, 3 * 365)
# The calls judged by date even today: a sign-up's age gate (a child's, an adult's).
DATED = frozenset({"register"})


class PrivacyLifecycle(SiteSharingMachine):
    """Drives a module through whole lives and checks every promise after every step.

    Runs inside the suite as ``test_lifecycle_keeps_every_promise``; to run it
    in a test of your own, use :func:`run_lifecycle` with the
    ``privacy_harness`` and ``mail_sink`` fixtures.
    """

    def __init__(self, harness: PrivacyHarness, sink: MailSink, origin: str = GENERATED) -> None:
        super().__init__(harness, sink, origin)
        self.refused: list[Person] = []
        self.signed_up_children: list[Person] = []  # refused only in the model
        self.egress_mark = harness.egress.mark() if harness.egress else 0
        self.profile = harness.adapter.profile
        self.zone = ZoneInfo(self.profile.time_zone)
        self.now = datetime.now(self.zone).replace(hour=12, minute=0, second=0, microsecond=0)
        self.retentions, _ = sound_retentions(harness)
        # A module with a date of its own starts every run on today's.
        self.clock = ModuleClock(harness)
        self.clock.set_today(self.now.date())

    # --- driving the module ---------------------------------------------------------

    def _module_clock(self, method: str) -> AbstractContextManager[object]:
        """A sign-up is judged by age on the lifecycle's date, and once time has passed
        whatever the module judges by date (a nightly job, an expiry) is judged on the
        new one. A module with a date of its own is given it before each sign-up (and by
        ``advance_time``); one reading the system clock runs each call on it, ticking,
        which is real time until ``advance_time`` moves the lifecycle's date on."""
        if method in DATED or not self.clock.own:
            return self.clock.on(self.now.date())
        return nullcontext()

    def _can(self, method: str) -> bool:
        return self.adapter.implements(method)

    def _on_member(
        self, index: int, method: str, extra: Callable[[Member], tuple[Any, ...]] = lambda m: ()
    ) -> Member | None:
        """Call ``method(account, *extra)`` for a live member, if there is one and the
        adapter can; the member it acted on, else None."""
        member = self._pick(index)
        if member is None or not self._can(method):
            return None
        self.steps.append(f"{method}({member.label})")
        self._call(method, member.account, *extra(member))
        return member

    def _born(self, age_years: int) -> date:
        today = self.now.date()
        return today.replace(year=today.year - age_years, month=1, day=1)

    # --- rules --------------------------------------------------------------------------

    @precondition(lambda self: len(self.members) < MAX_ADULTS)
    @rule(age=st.integers(MINIMUM_AGE, 90))
    def register_adult(self, age: int) -> None:
        person = named_person(len(self.members), birth_date=self._born(age))
        self._join(f"p{len(self.members)}", person, f"aged {age}")

    @precondition(lambda self: len(self.refused) < MAX_CHILDREN)
    @rule(age=st.integers(5, MINIMUM_AGE - 1))
    def register_child(self, age: int) -> None:
        person = assemble(given="Casey", family="Young", birth_date=self._born(age))
        label = f"c{len(self.refused)}, aged {age}"
        if verdict(person.birth_date, self.now.date(), self.profile.leap_day_birthday) != "refuse":
            return
        self.steps.append(f"register({label})")
        guard = self.harness.egress
        providers, egress = self.harness.processor_sink.mark(), guard.mark() if guard else 0
        try:
            self._call("register", person)
        except RegistrationRejected:
            self.refused.append(person)
            left = sent_since(self.harness, person, providers)
            left += connected_since(self.harness, person, egress)
            if left:  # what reached the stores and the mail, the invariants judge
                self.fail("children", f"refused {label} but sent their data out", left)
            return
        self.refused.append(person)
        self.signed_up_children.append(person)  # children's finding, not the notice's
        self.fail("children", f"signed up {label}, a child under 13", [f"born {person.birth_date}"])

    @precondition(lambda self: any(m.deleted for m in self.members))
    @rule(index=st.integers(0, MAX_ADULTS - 1), spelling=st.sampled_from(EMAIL_SPELLINGS))
    def register_again(self, index: int, spelling: str = AS_IS) -> None:
        """A deleted person signs up again with the same e-mail address (a new canary),
        perhaps spelt in another case or padded with spaces: the same address. A module
        refusing that spelling is not wrong; the address as it was is then signed up."""
        old = self._pick(index, alive=False)
        taken = {a for m in self.members if m.alive for a in m.addresses}
        if old is None or old.address in taken:
            return
        fresh = named_person(self.members.index(old))
        label = f"p{len(self.members)}"
        email, how = spelled(old.person.email, spelling)
        note = f"{old.label}'s e-mail, after deletion{how and f', {how}'}"
        member = self._join(label, fresh.changed(email=email), note, variant=spelling != AS_IS)
        if member is None:  # that spelling refused: the address as it was
            self._join(label, fresh.changed(email=old.person.email), f"{old.label}'s e-mail")
        else:  # the module keeps the address trimmed, if not lower-cased
            member.person = member.person.changed(email=email.strip())

    @rule(index=st.integers(0, MAX_ADULTS - 1), change=st.sampled_from(PROFILE_CHANGES))
    def update_profile(self, index: int, change: str) -> None:
        member = self._pick(index)
        if member is None or not self._can("update_profile"):
            return
        self._change_profile(member, change)

    @rule(index=st.integers(0, MAX_ADULTS - 1))
    def purchase(self, index: int) -> None:
        member = self._on_member(index, "purchase", lambda m: (m.person.card,))
        if member is not None:
            member.purchased = True

    @rule(index=st.integers(0, MAX_ADULTS - 1))
    def opt_out(self, index: int) -> None:
        member = self._on_member(index, "opt_out")
        if member is not None:
            member.subscribed = False

    @rule(index=st.integers(0, MAX_ADULTS - 1))
    def unsubscribe_by_link(self, index: int) -> None:
        member = self._pick(index)
        if member is None or member.last_marketing is None or not self._can("unsubscribe"):
            return
        links = unsubscribe_links(member.last_marketing)
        link = links.body or links.header_https
        if link is None:
            return  # email-opt-out reports a marketing message without a working link
        self.steps.append(f"unsubscribe({member.label}, link)")
        self._call("unsubscribe", link)
        member.subscribed = False

    @rule(index=st.integers(0, MAX_ADULTS - 1))
    def opt_in(self, index: int) -> None:
        member = self._on_member(index, "opt_in")
        if member is not None:
            member.subscribed = True

    @rule()
    def send_marketing(self) -> None:
        if not self._can("send_marketing"):
            return
        self.steps.append("send_marketing()")
        self._call("send_marketing")

    @rule(index=st.integers(0, MAX_ADULTS - 1))
    def send_transactional(self, index: int) -> None:
        self._on_member(index, "send_transactional")

    @rule(index=st.integers(0, MAX_ADULTS - 1))
    def delete(self, index: int) -> None:
        member = self._on_member(index, "delete")
        if member is not None:
            member.deleted = True
            self.deleting = member  # its receipt may still reach them
            if not member.subscribed and self.profile.opt_out_survives_deletion:
                # stricter than the policy, so only when the adapter asks: with it off, a
                # sign-up again is a new person, and nothing requires marketing to reach them.
                # The address they held when deleted: one they had left before is not theirs
                # to keep suppressed (they may have opted out only after leaving it).
                self.suppressed.add(member.address)

    @rule()
    def announce_policy_change(self) -> None:
        """The notice reaches every live account's address now, and nobody deleted, left
        behind or refused (judged here, under policy-notice); whatever else it sent is
        judged as any mail is."""
        if not self._can("announce_policy_change") or not self.profile.sends_email:
            return
        self.mail_respects_the_model()  # what came before is not the notice
        self.steps.append(ANNOUNCE)
        self._call("announce_policy_change")
        messages = self._new_mail()
        refused = [c for c in self.refused if c not in self.signed_up_children]
        for finding in notice_findings(self.members, refused, messages, self.mail_rule.kind):
            self.fail("policy-notice", finding.summary, [finding.evidence])
        for message in messages:
            owners = [m for m in self.members if m.receives(message)]
            if owners and not any(o.alive for o in owners):
                continue  # reached only the deleted: the notice's finding above
            self._judge_recipients(message)

    @rule(days=st.sampled_from(TIME_STEPS))
    def advance_time(self, days: int) -> None:
        self.steps.append(f"advance_time({days} days)")
        self.now += timedelta(days=days)
        self.clock.set_today(self.now.date())

    # --- invariants ---------------------------------------------------------------------

    @invariant()
    def mail_respects_the_model(self) -> None:
        try:
            messages = self._new_mail()
            # each refused child's needles, once per step with mail, not once per message
            matchers = [(c, NeedleMatcher(c.needles)) for c in self.refused] if messages else []
            for message in messages:
                for child, matcher in matchers:
                    trace = mail_trace(message, child, self._step(), matcher)
                    if trace is not None:
                        self.fail("children", "mail reached or carried a refused child", [trace])
                self._judge_recipients(message)
        finally:
            self.deleting = None  # a receipt belongs to the step of the delete() only

    @invariant()
    def nothing_left_of_the_gone(self) -> None:
        # What a live person legitimately holds is not residue, even when it contains a gone
        # person's value (the same e-mail address signed up again).
        live = b"\n".join(
            n.key for m in self.members if m.alive for p in m.versions for n in p.needles
        )
        gone = [p for m in self.members if m.deleted for p in m.versions] + self.refused
        needles = [n for p in gone for n in p.needles if n.key not in live]
        cards = [
            n
            for m in self.members
            if m.purchased
            for n in m.person.needles
            if n.field == "card_number"
        ]
        if not needles and not cards:
            return
        refused = {p.canary for p in self.refused}
        for hit in self.harness.scanner.scan(_unique(needles + cards)):
            broken = self._clause_broken_by(hit, refused)
            if broken is not None:
                self.fail(*broken)

    def _clause_broken_by(
        self, hit: Hit, refused: set[str]
    ) -> tuple[str, str, list[Evidence]] | None:
        """The one clause a hit breaks, with its summary and evidence (None: a retention
        excuses it). A card number is card data wherever it is found, a refused child's
        value is the children clause's: never also a deletion finding."""
        if hit.field == "card_number":
            if any(covers_location(r, hit) and "card_number" in r.fields for r in self.retentions):
                return None
            evidence = [hit.evidence("after the purchase completed")]
            return "card-data", "a full card number outlived its purchase", evidence
        if any(covers_location(r, hit) for r in self.retentions):
            return None
        if hit.person in refused:
            return "children", "a refused child's data was kept", [hit.evidence()]
        return "deletion", "a deleted person's data was kept", [hit.evidence()]

    @invariant()
    def connections_stay_in_the_us(self) -> None:
        guard = self.harness.egress
        if guard is None:
            return
        guard.settle(self.profile.allowed_subprocesses)
        events = guard.since(self.egress_mark)
        self.egress_mark = guard.mark()
        if events:
            matcher = NeedleMatcher(n for m in self.members for n in m.person.needles)
            for evidence in connection_evidence(self.harness, events, matcher)[:1]:
                self.fail("us-storage", "a connection left the United States", [evidence])

    # --- reporting ----------------------------------------------------------------------

    def fail(self, clause: str, summary: str, evidence: Sequence[str | Evidence]) -> None:
        super().fail(clause, f"lifecycle: {summary}", evidence)


def _unique(needles: list[Needle]) -> list[Needle]:
    return list({(n.person, n.field, n.key): n for n in needles}.values())


# Every interleaving the mutants in tests/ need, in one fixed run before the search.
FIXED_STEPS: tuple[Step, ...] = (
    Step(PrivacyLifecycle.register_adult, age=30),
    Step(PrivacyLifecycle.register_adult, age=45),
    Step(PrivacyLifecycle.connect_site, index=1, site=0),
    Step(PrivacyLifecycle.register_child, age=9),
    Step(PrivacyLifecycle.purchase, index=0),
    Step(PrivacyLifecycle.purchase, index=0),
    Step(PrivacyLifecycle.update_profile, index=1, change="email"),
    Step(PrivacyLifecycle.purchase, index=1),
    Step(PrivacyLifecycle.disconnect_site, index=1),
    Step(PrivacyLifecycle.opt_out, index=0),
    Step(PrivacyLifecycle.announce_policy_change),
    Step(PrivacyLifecycle.send_marketing),
    Step(PrivacyLifecycle.advance_time, days=1),
    Step(PrivacyLifecycle.send_transactional, index=1),
    Step(PrivacyLifecycle.update_profile, index=1, change="name"),
    Step(PrivacyLifecycle.delete, index=0),
    Step(PrivacyLifecycle.delete, index=0),
    Step(PrivacyLifecycle.register_again, index=0, spelling="padded"),
    Step(PrivacyLifecycle.send_marketing),
    Step(PrivacyLifecycle.advance_time, days=365),
    Step(PrivacyLifecycle.register_adult, age=13),
    Step(PrivacyLifecycle.unsubscribe_by_link, index=0),
    Step(PrivacyLifecycle.send_marketing),
    Step(PrivacyLifecycle.announce_policy_change),
)


def run_lifecycle(harness: PrivacyHarness, mail_sink: MailSink) -> None:
    """Run the fixed sequence, then hypothesis's search, with this harness's settings."""
    __tracebackhide__ = True

    def factory(origin: str) -> PrivacyLifecycle:
        return PrivacyLifecycle(harness, mail_sink, origin)

    with module_clock(harness):  # a module with a date of its own ends on today's
        run_state_machine(harness, factory, FIXED_STEPS)


class LifecycleChecks:
    """Every promise at once, over whole lives (filed under the clause a failure breaks)."""

    @privacy_check("deletion", needs=("register", "delete", "stores"), cost=2)
    def test_lifecycle_keeps_every_promise(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """Over any sequence of sign-ups (adults and children), profile changes, purchases,
        opt-outs, unsubscribes, opt-ins, mail, policy-change notices, deletions, sign-ups
        again, connected and disconnected sites and time passing: nothing is left of the
        deleted or the refused, no marketing reaches the opted out, nothing reaches the
        deleted, every live account gets the notice, no full card number outlives its
        purchase, no connection leaves the US, providers receive only what they are
        declared for, and a disconnected site nothing more."""
        __tracebackhide__ = True
        run_lifecycle(privacy_harness, mail_sink)
