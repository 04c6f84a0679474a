"""A whole life before deletion, and a return after it: what the deletion checks drive.

A deletion judged on a fresh sign-up misses whatever only a lived-in account
holds: the sent-mail table a service message wrote, the audit trail of a
consent change, the outbox row addressed to an e-mail the person has since
changed. So before ``delete()`` the subject lives: buys, receives service mail
and marketing, opts out and back in, unsubscribes by the link in a marketing
message they received, changes their name and e-mail, is imported again. Only
what the adapter implements is driven (and no mail step for a module that
sends none). Every profile the subject had stays theirs: after the deletion
none of them may survive.

After the deletion the same e-mail address can come back (a sign-up or an
import, with new values for everything else): that new account is a new
person, and nothing of the deleted one (their names, addresses, phone, the
history those carried) may reappear with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..contract.adapter import Account, RegistrationRejected
from ..errors import CheckInconclusive
from ..harness.holder import PrivacyHarness
from ..people.needles import Needle
from ..people.persons import Person, assemble
from .mail_rules import MARKETING, AdapterMailRule, unsubscribe_links
from .people_model import changed_profile

if TYPE_CHECKING:
    from ..observe.mail_sink import MailMessage, MailSink

# One step of the subject's life: the adapter method it needs, and whether it is mail.
PURCHASE = "purchase"
SERVICE_MAIL = "send_transactional"
OPT_OUT = "opt_out"
OPT_IN = "opt_in"
MARKETING_MAIL = "send_marketing"
UNSUBSCRIBE = "unsubscribe"  # a campaign, then the link in the message the subject received
NEW_NAME = "update_profile:name"
NEW_EMAIL = "update_profile:email"
REIMPORT = "reimport"

STEP_NEEDS: dict[str, tuple[str, ...]] = {
    PURCHASE: ("purchase",),
    SERVICE_MAIL: ("send_transactional",),
    OPT_OUT: ("opt_out",),
    OPT_IN: ("opt_in",),
    MARKETING_MAIL: ("send_marketing",),
    UNSUBSCRIBE: ("send_marketing", "unsubscribe"),
    NEW_NAME: ("update_profile",),
    NEW_EMAIL: ("update_profile",),
    REIMPORT: ("reimport",),
}
MAIL_STEPS = frozenset({SERVICE_MAIL, OPT_OUT, OPT_IN, MARKETING_MAIL, UNSUBSCRIBE})

# The fixed life: every step, in an order where each can reach what it is for (marketing
# after an opt-in, service mail and a purchase after the e-mail changed).
FULL_LIFE: tuple[str, ...] = (
    PURCHASE,
    SERVICE_MAIL,
    OPT_OUT,
    OPT_IN,
    UNSUBSCRIBE,
    NEW_NAME,
    NEW_EMAIL,
    SERVICE_MAIL,
    PURCHASE,
    OPT_IN,
    MARKETING_MAIL,
    REIMPORT,
    OPT_OUT,
)

# How the deleted person's e-mail address comes back after the deletion.
COMEBACKS: tuple[str, ...] = ("register", "reimport")


def life_steps(harness: PrivacyHarness) -> list[str]:
    """The steps of a life this adapter can drive."""
    adapter = harness.adapter
    silent = not adapter.profile.sends_email
    return [
        step
        for step, needs in STEP_NEEDS.items()
        if all(adapter.implements(n) for n in needs) and not (silent and step in MAIL_STEPS)
    ]


def comebacks(harness: PrivacyHarness) -> list[str]:
    return [method for method in COMEBACKS if harness.adapter.implements(method)]


@dataclass
class Life:
    """What a life left: every profile the subject had, every account they held."""

    versions: list[Person]
    accounts: list[Account]
    done: list[str] = field(default_factory=list)  # the steps that reached the module

    @property
    def person(self) -> Person:
        return self.versions[-1]

    @property
    def needles(self) -> list[Needle]:
        return unique_needles(n for p in self.versions for n in p.needles)


def unique_needles(needles: Any) -> list[Needle]:
    return list({(n.person, n.field, n.key): n for n in needles}.values())


def live(
    harness: PrivacyHarness,
    sink: MailSink | None,
    person: Person,
    account: Account,
    steps: tuple[str, ...],
) -> Life:
    """Drive ``steps`` of the subject's life through the adapter (those it can take)."""
    adapter = harness.adapter
    possible = set(life_steps(harness))
    rule = AdapterMailRule(adapter, harness.settings.call_timeout)
    life = Life([person], [account])

    def call(method: str, *args: Any) -> Any:
        return adapter.call_within(harness.settings.call_timeout, method, *args)

    for step in steps:
        if step not in possible:
            continue
        if step == PURCHASE:
            call("purchase", account, life.person.card)
        elif step in (SERVICE_MAIL, OPT_OUT, OPT_IN):
            call(step, account)
        elif step == MARKETING_MAIL:
            call("send_marketing")
        elif step == UNSUBSCRIBE:
            if not _unsubscribe_by_link(harness, sink, rule, life, call):
                continue
        elif step in (NEW_NAME, NEW_EMAIL):
            changed = changed_profile(life.person, step.partition(":")[2])
            call("update_profile", account, changed)
            life.versions.append(changed)
        elif step == REIMPORT:
            again = call("reimport", life.person)
            if again != account and again not in life.accounts:
                life.accounts.append(again)  # a second account: deleted with the first
        life.done.append(step)
    return life


def _unsubscribe_by_link(
    harness: PrivacyHarness,
    sink: MailSink | None,
    rule: AdapterMailRule,
    life: Life,
    call: Any,
) -> bool:
    """Run a campaign and follow the unsubscribe link of the marketing message that
    reached the subject; False when none did (opted out, or no link: the e-mail checks
    judge that)."""
    if sink is None:
        return False
    mark = sink.mark()
    call("send_marketing")
    address = life.person.email.lower()
    received = [
        m
        for m in sink.settle(mark, quiet=harness.settings.mail_settle)
        if m.to(address) and _is_marketing(rule, m)
    ]
    if not received:
        return False
    links = unsubscribe_links(received[-1])
    link = links.body or links.header_https
    if link is None:
        return False
    call("unsubscribe", link)
    return True


def _is_marketing(rule: AdapterMailRule, message: MailMessage) -> bool:
    """Whether ``message`` is marketing; one the rule cannot place is the e-mail checks'
    to report, not a reason for a deletion check to stop."""
    try:
        return rule.kind(message) == MARKETING
    except CheckInconclusive:
        return False


def come_back(harness: PrivacyHarness, life: Life, method: str) -> Person | None:
    """The deleted subject's e-mail address signs up (or is imported) again, every other
    value new; the newcomer, or None when the module refuses them."""
    newcomer = assemble(given="Rae", family="Return").changed(email=life.person.email)
    try:
        harness.adapter.call_within(harness.settings.call_timeout, method, newcomer)
    except RegistrationRejected:
        return None
    return newcomer


def resurrected(life: Life, newcomer: Person) -> list[Needle]:
    """What of the deleted subject must not come back with the newcomer: every value of
    every profile they had, but what the newcomer holds too (the e-mail, and the deleted
    person's token inside it) and card numbers (card data's own clause)."""
    held = [n.key for n in newcomer.needles]
    return [
        n
        for n in life.needles
        if n.field != "card_number" and not any(n.key in key for key in held)
    ]
