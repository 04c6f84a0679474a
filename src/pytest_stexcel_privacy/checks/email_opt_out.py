"""E-mail Communications: clause ``email-opt-out``.

A hypothesis state machine drives the module through sign-ups, opt-outs,
unsubscribe links, opt-ins, profile changes, re-imports, deletions,
campaigns and transactional mail, and keeps a model of who should receive
marketing. Every message the module sends reaches the real SMTP sink; after
each step the sink's mail is judged against the model. A failure names the
step sequence (shrunk by hypothesis) and the message.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from ..contract.adapter import RegistrationRejected
from ..errors import CheckInconclusive
from ..findings.evidence import Evidence
from ..harness.holder import PrivacyHarness
from ..observe.mail_sink import MailMessage, MailSink
from ..people.persons import Person, assemble
from .adapter_machine import AdapterMachine
from .mail_rules import (
    MARKETING,
    unsubscribe_links,
    unsubscribe_problems,
)
from .registry import privacy_check

MAX_PEOPLE = 5
SUBSCRIBED, OPTED_OUT, DELETED = "subscribed", "opted out", "deleted"
NAMES = (("Ann", "Lee"), ("Bo", "Okafor"), ("Chloé", "D'Souza"), ("Dev", "Patel"), ("Eun", "Kim"))


@dataclass
class Contact:
    label: str
    person: Person
    account: Any
    state: str
    address: str  # lower-cased: where the module sends, as the sink records it
    last_marketing: MailMessage | None = None
    aliases: set[str] = field(default_factory=set)  # every address it has had

    @property
    def alive(self) -> bool:
        return self.state != DELETED


def message_evidence(message: MailMessage, note: str = "") -> Evidence:
    headers = ", ".join(
        f"{name}: {message.header(name)!r}"
        for name in ("list-unsubscribe", "list-unsubscribe-post")
        if message.header(name)
    )
    text = (
        message.describe() + (f" [{headers}]" if headers else "") + (f" - {note}" if note else "")
    )
    return Evidence(text=text, store="mail", location=f"message #{message.index}")


class OptOutMachine(AdapterMachine):
    """The model: each contact is subscribed, opted out or deleted."""

    def __init__(self, harness: PrivacyHarness, sink: MailSink) -> None:
        super().__init__(harness, sink)
        self.contacts: list[Contact] = []

    # --- helpers ------------------------------------------------------------------------

    def _step(self, text: str) -> None:
        self.steps.append(text)

    def _call(self, method: str, *args: Any) -> Any:
        return self.adapter.call_within(self.harness.settings.call_timeout, method, *args)

    def _new_mail(self) -> list[MailMessage]:
        messages = self.sink.settle(self.seen, quiet=self.harness.settings.mail_settle)
        self.seen += len(messages)
        for message in messages:
            self._judge_common(message)
        return messages

    def _owner(self, message: MailMessage) -> list[Contact]:
        return [c for c in self.contacts if any(a in message.recipients for a in c.aliases)]

    def _kind(self, message: MailMessage) -> str:
        return self.mail_rule.kind(message)

    def _judge_common(self, message: MailMessage) -> None:
        for contact in self._owner(message):
            if contact.state == DELETED:
                self.fail(
                    "email-opt-out",
                    f"mail reached {contact.label} after they were deleted",
                    [message_evidence(message)],
                )
        if not self._owner(message):
            return
        if self._kind(message) != MARKETING:
            return
        problems = unsubscribe_problems(message)
        if problems:
            self.fail(
                "email-opt-out",
                "marketing message without a working unsubscribe",
                [message_evidence(message, "; ".join(problems))],
            )
        for contact in self._owner(message):
            if contact.state == OPTED_OUT:
                self.fail(
                    "email-opt-out",
                    f"marketing reached {contact.label} after they opted out",
                    [message_evidence(message)],
                )
            contact.last_marketing = message

    def _alive(self, index: int) -> Contact | None:
        alive = [c for c in self.contacts if c.alive]
        return alive[index % len(alive)] if alive else None

    # --- rules --------------------------------------------------------------------------

    @precondition(lambda self: len(self.contacts) < MAX_PEOPLE)
    @rule()
    def register(self) -> None:
        label = f"p{len(self.contacts)}"
        given, family = NAMES[len(self.contacts) % len(NAMES)]
        person = assemble(given=given, family=family, plus_tag="shop" if label == "p2" else None)
        self._step(f"register({label})")
        try:
            account = self._call("register", person)
        except RegistrationRejected as exc:
            raise CheckInconclusive(
                f"{self.adapter.name}.register() refused an adult: {exc}"
            ) from exc
        address = person.email.lower()
        state = SUBSCRIBED if self.mail_rule.marketing_by_default else OPTED_OUT
        self.contacts.append(Contact(label, person, account, state, address, aliases={address}))
        self._new_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1))
    def opt_out(self, index: int) -> None:
        contact = self._alive(index)
        if contact is None:
            return
        self._step(f"opt_out({contact.label})")
        self._call("opt_out", contact.account)
        contact.state = OPTED_OUT
        self._new_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1))
    def opt_in(self, index: int) -> None:
        contact = self._alive(index)
        if contact is None or not self.adapter.implements("opt_in"):
            return
        self._step(f"opt_in({contact.label})")
        self._call("opt_in", contact.account)
        contact.state = SUBSCRIBED
        self._new_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1), visible=st.booleans())
    def unsubscribe_by_link(self, index: int, visible: bool) -> None:
        contact = self._alive(index)
        if contact is None or contact.last_marketing is None:
            return
        links = unsubscribe_links(contact.last_marketing)
        link = (links.body if visible else links.header_https) or links.body or links.header_https
        if link is None:
            return  # already reported when the message arrived
        where = "body" if link == links.body else "List-Unsubscribe"
        self._step(f"unsubscribe({contact.label}, {where} link)")
        self._call("unsubscribe", link)
        contact.state = OPTED_OUT
        self._new_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1), change=st.sampled_from(["email-case", "name"]))
    def update_profile(self, index: int, change: str) -> None:
        contact = self._alive(index)
        if contact is None or not self.adapter.implements("update_profile"):
            return
        person = contact.person
        if change == "email-case":
            local, _, domain = person.email.partition("@")
            changed = person.changed(email=f"{local.swapcase()}@{domain.upper()}")
        else:
            changed = person.changed(first_name=f"{person.first_name}-Marie")
        self._step(f"update_profile({contact.label}, {change})")
        self._call("update_profile", contact.account, changed)
        contact.person = changed
        self._new_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1), upper=st.booleans())
    def reimport(self, index: int, upper: bool) -> None:
        contact = self._alive(index)
        if contact is None or not self.adapter.implements("reimport"):
            return
        person = (
            contact.person.changed(email=contact.person.email.upper()) if upper else contact.person
        )
        self._step(f"reimport({contact.label}{', upper-case e-mail' if upper else ''})")
        self._call("reimport", person)
        self._new_mail()

    @rule(index=st.integers(0, MAX_PEOPLE - 1))
    def delete(self, index: int) -> None:
        contact = self._alive(index)
        if contact is None:
            return
        self._step(f"delete({contact.label})")
        self._call("delete", contact.account)
        contact.state = DELETED
        self._new_mail()

    @rule()
    def campaign(self) -> None:
        self._step("send_marketing()")
        self._call("send_marketing")
        messages = self._new_mail()
        marketing = [m for m in messages if self._owner(m) and self._kind(m) == MARKETING]
        for contact in self.contacts:
            if contact.state != SUBSCRIBED:
                continue
            if not any(m for m in marketing if contact in self._owner(m)):
                self.fail(
                    "email-opt-out",
                    f"the campaign did not reach {contact.label}, who is subscribed"
                    + ("" if marketing else " (it reached none of the subscribed people)"),
                    [f"{len(messages)} message(s) sent during send_marketing()"]
                    + [message_evidence(m).text for m in messages[:10]],
                )

    @rule(index=st.integers(0, MAX_PEOPLE - 1))
    def transactional(self, index: int) -> None:
        contact = self._alive(index)
        if contact is None:
            return
        self._step(f"send_transactional({contact.label})")
        self._call("send_transactional", contact.account)
        messages = [m for m in self._new_mail() if contact in self._owner(m)]
        if not any(self._kind(m) != MARKETING for m in messages):
            self.fail(
                "email-opt-out",
                f"a non-marketing message to {contact.label} ({contact.state}) never arrived: "
                "opting out of marketing must not block service mail",
                [message_evidence(m).text for m in messages] or ["nothing was sent to them"],
            )

    @rule(owner_index=st.integers(0, MAX_PEOPLE - 1), victim_index=st.integers(0, MAX_PEOPLE - 1))
    def forge_link(self, owner_index: int, victim_index: int) -> None:
        """Edit one person's unsubscribe link to name someone else, or tamper its token."""
        owner, victim = self._alive(owner_index), self._alive(victim_index)
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
        self._step(f"unsubscribe(forged: {how})")
        with contextlib.suppress(Exception):  # refusing it, loudly or not, is the module's job
            self.adapter.adapter.unsubscribe(forged)
        self._new_mail()


def retarget(link: str, owner: Contact, victim: Contact) -> str | None:
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
FIXED_SEQUENCE: tuple[tuple[str, dict[str, Any]], ...] = (
    ("register", {}),
    ("register", {}),
    ("register", {}),
    ("register", {}),
    ("campaign", {}),
    ("unsubscribe_by_link", {"index": 0, "visible": True}),
    ("opt_out", {"index": 1}),
    ("forge_link", {"owner_index": 2, "victim_index": 3}),
    ("forge_link", {"owner_index": 3, "victim_index": 3}),
    ("campaign", {}),
    ("transactional", {"index": 1}),
    ("update_profile", {"index": 1, "change": "email-case"}),
    ("reimport", {"index": 1, "upper": True}),
    ("campaign", {}),
    ("opt_in", {"index": 0}),
    ("campaign", {}),
    ("unsubscribe_by_link", {"index": 2, "visible": False}),
    ("delete", {"index": 3}),
    ("campaign", {}),
    ("transactional", {"index": 0}),
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
        marketing reaches the person, whatever happens next; service mail still does;
        nothing reaches a deleted person; a forged or tampered link unsubscribes nobody."""
        __tracebackhide__ = True
        harness = privacy_harness

        def factory() -> OptOutMachine:
            return OptOutMachine(harness, mail_sink)

        harness.run_state_machine(factory, FIXED_SEQUENCE, stateful_step_count=20)
