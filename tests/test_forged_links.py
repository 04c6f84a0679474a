"""Forged unsubscribe links: each forgery's candidates, and the opt-out machine judging them."""

from __future__ import annotations

import hashlib
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pytest_stexcel_privacy import Person
from pytest_stexcel_privacy.checks.email_opt_out import OptOutMachine
from pytest_stexcel_privacy.checks.forged_links import (
    DECREMENT,
    FORGED_LINK_UNSUBSCRIBED,
    FORGERIES,
    INCREMENT,
    REPLAY,
    looks_like_token,
    numeric_edits,
    signature_edits,
    swaps,
)
from pytest_stexcel_privacy.findings.outcomes import PrivacyViolation
from pytest_stexcel_privacy.harness.holder import PrivacyHarness
from pytest_stexcel_privacy.harness.state_machines import FIXED, Step
from pytest_stexcel_privacy.observe.mail_sink import MailSink
from pytest_stexcel_privacy.settings import PrivacySettings
from toy_adapter import ToyAdapter

SIGNED = "https://shop.example/unsubscribe?c=12&t=0123456789abcdef0123456789abcdef"
OTHER = "https://shop.example/unsubscribe?c=13&t=fedcba9876543210fedcba9876543210"


def links(forged: list[Any]) -> list[str]:
    return [f.link for f in forged]


def test_every_number_is_changed_by_one_each_in_turn() -> None:
    up = numeric_edits("https://shop.example/u/12/09?c=7", "p1", 1)
    assert links(up) == [
        "https://shop.example/u/13/09?c=7",
        "https://shop.example/u/12/10?c=7",
        "https://shop.example/u/12/09?c=8",
    ]
    assert up[0].how == "p1's link with its 1st number +1"
    down = numeric_edits("https://shop2.example/u/0/5", "p1", -1)
    assert links(down) == ["https://shop2.example/u/0/4"]  # not the host's, never below 0


@pytest.mark.parametrize(
    ("link", "dropped"),
    [
        (SIGNED, "https://shop.example/unsubscribe?c=12"),
        ("https://x.example/u?id=4&sig=ab", "https://x.example/u?id=4"),
        ("https://x.example/u?h=1&id=4", "https://x.example/u?id=4"),
        ("https://x.example/u?id=4&k=dGhpcyBpcyBhIHRva2VuMTIz", "https://x.example/u?id=4"),
    ],
)
def test_a_signature_is_known_by_its_name_or_its_value(link: str, dropped: str) -> None:
    (drop,) = signature_edits(link, "p0", blank=False)
    assert drop.link == dropped
    (blank,) = signature_edits(link, "p0", blank=True)
    assert blank.link.endswith("=") or "=&" in blank.link
    assert "blanked" in blank.how


def test_a_plain_value_is_no_token() -> None:
    assert not looks_like_token("newsletter-2026-spring")
    assert not looks_like_token("12345")
    assert looks_like_token("0123456789abcdef")
    assert signature_edits("https://x.example/u?id=4&campaign=spring", "p0", blank=False) == []


def test_swaps_mix_two_links_but_never_rebuild_either() -> None:
    forged = swaps(SIGNED, OTHER, "p2", "p3")
    assert links(forged) == [
        "https://shop.example/unsubscribe?c=13&t=0123456789abcdef0123456789abcdef",
        "https://shop.example/unsubscribe?c=12&t=fedcba9876543210fedcba9876543210",
    ]
    assert [f.signed_by_other for f in forged] == [False, True]
    assert forged[0].how == "p2's link with p3's 'c' parameter"
    # an unsigned link's only difference is the id: swapping it is the other's real link
    assert swaps("https://s.example/u/12", "https://s.example/u/13", "p2", "p3") == []
    path = swaps("https://s.example/u/12?t=aa", "https://s.example/u/13?t=bb", "p2", "p3")
    assert "https://s.example/u/13?t=aa" in links(path)


# --- the opt-out machine against a toy mailer ---------------------------------------------


class LinkMailer(ToyAdapter):
    """Marketing with a visible unsubscribe link https://shop.example/u/<id>, signed or not."""

    signed = False

    def __init__(self, workdir: Path, smtp: tuple[str, int]) -> None:
        super().__init__(workdir)
        self.smtp = smtp
        self.people: dict[int, str] = {}
        self.out: set[int] = set()

    def register(self, person: Person) -> Any:
        account = super().register(person)
        self.people[account] = person.email
        return account

    def delete(self, account: Any) -> None:
        super().delete(account)
        self.people.pop(account)

    def opt_out(self, account: Any) -> None:
        self.out.add(account)

    def opt_in(self, account: Any) -> None:
        self.out.discard(account)

    def _signature(self, account: int) -> str:
        return hashlib.sha256(f"key:{account}".encode()).hexdigest()[:24]

    def _link(self, account: int) -> str:
        link = f"https://shop.example/u/{account}"
        return f"{link}?sig={self._signature(account)}" if self.signed else link

    def unsubscribe(self, link: str) -> None:
        parts = urlsplit(link)
        account = int(parts.path.rsplit("/", 1)[1])
        if self.signed and parse_qs(parts.query).get("sig") != [self._signature(account)]:
            raise ValueError("the link was altered")
        self.out.add(account)

    def _send(self, account: int, kind: str) -> None:
        message = EmailMessage()
        message["From"] = "shop@example.com"
        message["To"] = self.people[account]
        message["Subject"] = kind
        message["X-Mail-Category"] = kind
        body = f"Unsubscribe: {self._link(account)}" if kind == "marketing" else "thanks"
        message.set_content(body)
        with smtplib.SMTP(*self.smtp) as client:
            client.send_message(message)

    def send_marketing(self) -> None:
        for account in self.people:
            if account not in self.out:
                self._send(account, "marketing")

    def send_transactional(self, account: Any) -> None:
        self._send(account, "transactional")


class SignedLinkMailer(LinkMailer):
    signed = True


@pytest.fixture
def sink() -> Iterator[MailSink]:
    started = MailSink().start()
    yield started
    started.stop()


def run_steps(adapter: LinkMailer, sink: MailSink, steps: list[Step]) -> OptOutMachine:
    harness = PrivacyHarness.open(adapter, None, None, PrivacySettings(mail_settle=0.05), "t")
    try:
        machine = OptOutMachine(harness, sink, FIXED)
        for step in [*[Step(OptOutMachine.register)] * 3, Step(OptOutMachine.campaign), *steps]:
            step.apply(machine)
        machine.teardown()  # a machine records its violations and raises them here
        return machine
    finally:
        harness.close()


def forge(owner: int, victim: int, forgery: str, choice: int = 0) -> Step:
    return Step(
        OptOutMachine.forge_link,
        owner_index=owner,
        victim_index=victim,
        forgery=forgery,
        choice=choice,
    )


@pytest.mark.parametrize(("forgery", "victim"), [(INCREMENT, "p2"), (DECREMENT, "p0")])
def test_one_digit_changed_in_an_unsigned_link_unsubscribes_another_and_fails(
    tmp_path: Path, sink: MailSink, forgery: str, victim: str
) -> None:
    with pytest.raises(PrivacyViolation) as caught:
        run_steps(LinkMailer(tmp_path, sink.address), sink, [forge(1, 1, forgery)])
    violation = caught.value
    assert violation.clause == "email-opt-out"
    assert f"a forged unsubscribe link unsubscribed {victim}, who was not its recipient" in str(
        violation.summary
    )
    (evidence,) = violation.evidence
    assert evidence.location == FORGED_LINK_UNSUBSCRIBED
    assert (
        f"p1's link with its 1st number {'+1' if forgery == INCREMENT else '-1'}" in evidence.text
    )
    assert "forged link ht" in evidence.text
    assert "shop.example/u/" not in evidence.text  # the link is masked
    assert "unsubscribe(forged: p1's link" in violation.example


def test_a_signed_link_survives_every_forgery(tmp_path: Path, sink: MailSink) -> None:
    steps = [forge(o, v, f, c) for f in FORGERIES for o, v in ((0, 1), (1, 1)) for c in (0, 1)]
    machine = run_steps(SignedLinkMailer(tmp_path, sink.address), sink, steps)
    assert sum(s.startswith("unsubscribe(forged") for s in machine.steps) == len(steps)
    assert "opt_in(p0)" in machine.steps
    # the replays re-unsubscribed their own recipients, which is allowed; nobody else
    assert [m.subscribed for m in machine.members] == [False, False, True]


def test_a_replayed_link_may_unsubscribe_its_recipient_again(
    tmp_path: Path, sink: MailSink
) -> None:
    steps = [Step(OptOutMachine.unsubscribe_by_link, index=2, visible=True), forge(2, 0, REPLAY)]
    machine = run_steps(SignedLinkMailer(tmp_path, sink.address), sink, steps)
    assert machine.steps[-3:] == [
        "opt_in(p2)",
        "unsubscribe(forged: p2's own link replayed)",
        "send_marketing()",
    ]
    assert [m.subscribed for m in machine.members] == [True, True, False]
