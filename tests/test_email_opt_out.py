"""The email-opt-out clause: classification, unsubscribe rules, and modules that misbehave."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pytest_stexcel_privacy.checks.mail_rules import classify, unsubscribe_problems
from pytest_stexcel_privacy.observe.mail_sink import MailMessage, parse_message
from report_reading import REPORT_DIR, REPORT_OPTION, assert_checks_ended, suite_checks

MAIL_CHECKS = suite_checks("email-opt-out")


def message(headers: str, body: str = "hello") -> MailMessage:
    raw = f"From: shop@example.com\r\nTo: a@example.com\r\n{headers}\r\n{body}\r\n"
    return parse_message(0, "shop@example.com", ["a@example.com"], raw.encode())


GOOD = (
    "Subject: sale\r\nList-Unsubscribe: <https://shop.example/u?t=1>, <mailto:u@shop.example>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("X-Mail-Category: marketing\r\n", "marketing"),
        ("X-Mail-Category: Newsletter\r\n", "marketing"),
        ("X-Mail-Category: receipt\r\n", "transactional"),
        ("List-Unsubscribe: <https://x.example/u>\r\n", "marketing"),
        ("Precedence: bulk\r\n", "marketing"),
        ("Subject: your order\r\n", None),
        ("X-Mail-Category: something-else\r\n", None),
    ],
)
def test_default_classification(headers: str, expected: str | None) -> None:
    assert classify(message(headers)) == expected


def test_named_header_and_override() -> None:
    assert classify(message("X-Kind: promotion\r\n"), "X-Kind") == "marketing"
    assert classify(
        message("X-Mail-Category: marketing\r\n"), override=lambda m: "transactional"
    ) == ("transactional")
    assert classify(message("Subject: x\r\n"), override=lambda m: None) is None


def test_a_complete_unsubscribe_has_no_problems() -> None:
    assert unsubscribe_problems(message(GOOD, "Unsubscribe: https://shop.example/u?t=1")) == []


@pytest.mark.parametrize(
    ("headers", "body", "problem"),
    [
        ("Subject: sale\r\n", "https://shop.example/unsubscribe", "no List-Unsubscribe header"),
        (
            GOOD.replace("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", ""),
            "https://shop.example/u?t=1",
            "no 'List-Unsubscribe-Post",
        ),
        (
            GOOD.replace("https://shop.example/u?t=1", "http://shop.example/u?t=1"),
            "http://shop.example/u?t=1",
            "needs an https target",
        ),
        (GOOD, "no link here", "no visible unsubscribe link in the body"),
        (
            "List-Unsubscribe: <ftp://x>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
            "x",
            "has no https or mailto target",
        ),
    ],
)
def test_unsubscribe_problems(headers: str, body: str, problem: str) -> None:
    assert any(problem in p for p in unsubscribe_problems(message(headers, body)))


def test_message_repr_is_dated() -> None:
    assert message(GOOD).received_at <= datetime.now(UTC)


TOY_MAILER = """
import smtplib
from email.message import EmailMessage
import pytest
from toy_adapter import ToyAdapter
from pytest_stexcel_privacy import PrivacySuite


class Mailer(ToyAdapter):
    def __init__(self, workdir, smtp):
        super().__init__(workdir)
        self.smtp = smtp
        self.people = {{}}
        self.out = set()

    def register(self, person):
        account = super().register(person)
        self.people[account] = person.email
        return account

    def opt_out(self, account):
        self.out.add(account)

    def unsubscribe(self, link):
        self.out.add(int(link.rsplit("=", 1)[1]))

    def delete(self, account):
        super().delete(account)
        self.people.pop(account)

    def _send(self, account, kind):
        message = EmailMessage()
        message["From"] = "shop@example.com"
        message["To"] = self.people[account]
        message["Subject"] = kind
        {category}
        message.set_content("hello")
        with smtplib.SMTP(*self.smtp) as client:
            client.send_message(message)

    def send_marketing(self):
        {campaign}

    def send_transactional(self, account):
        self._send(account, "receipt")


class TestMailer(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, mail_sink):
        return Mailer(tmp_path, mail_sink.address)
"""


def run_mailer(pytester: pytest.Pytester, campaign: str, category: str) -> pytest.RunResult:
    pytester.makepyfile(test_mailer=TOY_MAILER.format(campaign=campaign, category=category))
    return pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--privacy-clauses=email-opt-out",
        "--privacy-max-examples=3",
        "--privacy-shrink-seconds=1",
        REPORT_OPTION,
    )


def test_a_module_that_sends_nothing_cannot_pass(pytester: pytest.Pytester) -> None:
    result = run_mailer(pytester, "pass", "message['X-Mail-Category'] = kind")
    assert_checks_ended(result, pytester.path / REPORT_DIR, dict.fromkeys(MAIL_CHECKS, "failed"))
    result.stdout.fnmatch_lines(
        ["*[[]email-opt-out] the campaign did not reach p0, who is subscribed (it reached none*"]
    )


def test_unclassifiable_mail_is_an_error_not_a_pass(pytester: pytest.Pytester) -> None:
    campaign = "for account in list(self.people):\n            self._send(account, 'sale')"
    result = run_mailer(pytester, campaign, "pass")
    assert_checks_ended(result, pytester.path / REPORT_DIR, dict.fromkeys(MAIL_CHECKS, "error"))
    result.stdout.fnmatch_lines(["*cannot tell whether message #* is marketing*classify_mail()*"])
