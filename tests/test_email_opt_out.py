"""The email-opt-out clause: classification, unsubscribe rules, and modules that misbehave."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pytest_stexcel_privacy.checks.mail_rules import (
    KNOWN_NOTICE_SUBJECTS,
    body_unsubscribe_link,
    classify,
    known_notice_subject,
    unsubscribe_problems,
)
from pytest_stexcel_privacy.findings.evidence import Evidence
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
        ("X-Mail-Category: Notice\r\n", "notice"),
        ("X-Mail-Category: security\r\n", "notice"),
        ("X-Mail-Category: policy\r\n", "notice"),
        ("List-Unsubscribe: <https://x.example/u>\r\n", "marketing"),
        ("Precedence: bulk\r\n", "marketing"),
        ("Subject: your order\r\n", None),
        ("X-Mail-Category: something-else\r\n", None),
    ],
)
def test_default_classification(headers: str, expected: str | None) -> None:
    assert classify(message(headers)) == expected


@pytest.mark.parametrize(
    "subject",
    [
        "Password reset on Tracked Shop",  # Django
        "[example.com] Please Confirm Your E-mail Address",  # django-allauth
        "Please Confirm Your Email Address",
        "[Shop] Password Reset E-mail",
        "Reset password instructions",  # Devise
        "Confirmation instructions",
        "Unlock instructions",
        "Reset Password Notification",  # Laravel
        "Verify Email Address",
        "Password reset",  # Odoo
        "Thank you for registering.",  # django-oscar
        "Your email address has changed at Oscar Shop.",
        "Your password changed at Oscar Shop.",
        "Resetting your password at Oscar Shop.",
        "Confirmation required for stock alert",
        "Your data has been deleted",
        "Your account has been deleted.",
        "Account deletion confirmation",
        "Changes to our Privacy Policy",
        "We've updated our privacy policy",
        "Privacy policy update",
    ],
)
def test_account_mail_of_common_frameworks_is_a_notice(subject: str) -> None:
    assert known_notice_subject(subject)
    assert classify(message(f"Subject: {subject}\r\n")) == "notice"
    # a header saying "not marketing" leaves the subject to say which kind
    assert classify(message(f"Subject: {subject}\r\nX-Mail-Category: receipt\r\n")) == "notice"


@pytest.mark.parametrize(
    "subject",
    [
        "Password reset tips for a safer summer sale",
        "Deleted items: 50% off!",
        "Reset your style: new collection",
        "Our account manager has an offer",
        "privacy",
        "",
    ],
)
def test_notice_subjects_match_whole_shapes_not_words(subject: str) -> None:
    assert not known_notice_subject(subject)
    assert classify(message(f"Subject: {subject}\r\n")) is None


def test_precedence_override_then_header_then_subject_then_list_unsubscribe() -> None:
    notice_subject = "Subject: Your account has been deleted\r\n"
    with_unsubscribe = notice_subject + "List-Unsubscribe: <https://x.example/u>\r\n"
    # a known subject wins over the bulk heuristics (mail services add List-Unsubscribe
    # to everything) ...
    assert classify(message(with_unsubscribe)) == "notice"
    assert classify(message(notice_subject + "Precedence: bulk\r\n")) == "notice"
    # ... an explicit marketing category wins over the subject ...
    assert classify(message(with_unsubscribe + "X-Mail-Category: marketing\r\n")) == "marketing"
    # ... and the adapter wins over everything
    assert classify(message(notice_subject), override=lambda m: "marketing") == "marketing"
    assert classify(message("X-Mail-Category: marketing\r\n"), override=lambda m: "notice") == (
        "notice"
    )
    assert len({pattern for _, pattern in KNOWN_NOTICE_SUBJECTS}) == len(KNOWN_NOTICE_SUBJECTS)


def test_an_override_answering_outside_the_kinds_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"returned 'Marketing'.*one of"):
        classify(message("Subject: x\r\n"), override=lambda m: "Marketing")


def test_named_header_and_override() -> None:
    assert classify(message("X-Kind: promotion\r\n"), "X-Kind") == "marketing"
    assert classify(
        message("X-Mail-Category: marketing\r\n"), override=lambda m: "transactional"
    ) == ("transactional")
    assert classify(message("Subject: x\r\n"), override=lambda m: None) is None


def test_a_complete_unsubscribe_has_no_problems() -> None:
    complete = message(GOOD, "Unsubscribe: https://shop.example/u?t=1")
    assert unsubscribe_problems(complete, require_headers=True) == []


def test_by_default_a_visible_body_link_is_enough() -> None:
    """The policy asks for an unsubscribe to click; the headers are a stricter setting."""
    body_only = message("Subject: sale\r\n", "Unsubscribe: https://shop.example/u?t=1")
    assert unsubscribe_problems(body_only) == []
    assert any(
        "List-Unsubscribe" in p for p in unsubscribe_problems(body_only, require_headers=True)
    )
    assert unsubscribe_problems(message(GOOD, "no link here")) == [
        "no visible unsubscribe link in the body"
    ]


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
    found = unsubscribe_problems(message(headers, body), require_headers=True)
    assert any(problem in p for p in found)


TRACKED = (
    "Subject: sale\r\nList-Unsubscribe: <https://shop.example/one-click/9d1>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nContent-Type: text/html\r\n"
)


@pytest.mark.parametrize(
    "anchor",
    [
        '<a href="https://shop.example/c/8f3">Unsubscribe</a>',
        '<a href="https://shop.example/c/8f3"><b>Opt out</b> of these e-mails</a>',
        '<a title="Unsubscribe from this list" href="https://shop.example/c/8f3">here</a>',
        '<a aria-label="Abmelden" href="https://shop.example/c/8f3">&#10005;</a>',
        '<a href="https://shop.example/c/8f3"><img src="x.png" alt="Se d&eacute;sinscrire"></a>',
        '<A HREF="https://shop.example/c/8f3">Darse de baja',  # never closed
    ],
)
def test_a_tracked_link_that_says_unsubscribe_is_the_visible_link(anchor: str) -> None:
    body = f'<p>New in: <a href="https://shop.example/c/1a2">rings</a></p><p>{anchor}</p>'
    got = message(TRACKED, body)
    assert body_unsubscribe_link(got) == "https://shop.example/c/8f3"
    assert not any("visible" in p for p in unsubscribe_problems(got))


def test_a_plain_text_link_is_labelled_by_the_words_before_it() -> None:
    body = "Shop: https://shop.example/c/1a2\nTo unsubscribe: https://shop.example/c/8f3\n"
    assert body_unsubscribe_link(message(GOOD, body)) == "https://shop.example/c/8f3"
    assert body_unsubscribe_link(message(GOOD, "Shop: https://shop.example/c/1a2")) is None


def test_mail_evidence_is_known_by_rule_role_and_step() -> None:
    """Not by message number or address: the key an acceptance and a baseline match."""
    evidence = Evidence(
        "p1 (opted out) in send_marketing() message #52 to an*******om, subject 'sale'",
        store="mail",
        location="marketing-after-opt-out",
        locator="opted out",
        step="send_marketing()",
    )
    assert evidence.key == "mail marketing-after-opt-out: opted out during send_marketing()"
    assert Evidence.from_dict(evidence.to_dict()) == evidence


def test_message_description_masks_recipients() -> None:
    assert "a@example.com" not in message(GOOD).describe()


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
    """No marketing seen is the suite not seeing, not a broken promise: an error."""
    result = run_mailer(pytester, "pass", "message['X-Mail-Category'] = kind")
    assert_checks_ended(result, pytester.path / REPORT_DIR, dict.fromkeys(MAIL_CHECKS, "error"))
    result.stdout.fnmatch_lines(
        ["*Mailer.send_marketing() sent no marketing the suite could see to anyone*"]
    )


def test_unclassifiable_mail_is_an_error_not_a_pass(pytester: pytest.Pytester) -> None:
    campaign = "for account in list(self.people):\n            self._send(account, 'sale')"
    result = run_mailer(pytester, campaign, "pass")
    assert_checks_ended(result, pytester.path / REPORT_DIR, dict.fromkeys(MAIL_CHECKS, "error"))
    result.stdout.fnmatch_lines(["*cannot tell whether message #* is marketing*classify_mail()*"])


# --- a module that declares it sends no e-mail ------------------------------------------

SILENT = """
import smtplib
from email.message import EmailMessage
import pytest
from toy_adapter import ToyAdapter
from pytest_stexcel_privacy import PrivacySuite


class Silent(ToyAdapter):
    sends_email = False

    def __init__(self, workdir, smtp):
        super().__init__(workdir)
        self.smtp = smtp

    def register(self, person):
        account = super().register(person)
        {welcome}
        return account

    def _welcome(self, person):
        message = EmailMessage()
        message["From"] = "shop@example.com"
        message["To"] = person.email
        message["Subject"] = "Welcome to the shop"
        message.set_content("hello")
        with smtplib.SMTP(*self.smtp) as client:
            client.send_message(message)


class TestSilent(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, mail_sink):
        return Silent(tmp_path, mail_sink.address)
"""


def run_silent(pytester: pytest.Pytester, welcome: str) -> pytest.RunResult:
    pytester.makepyfile(test_silent=SILENT.format(welcome=welcome))
    return pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--privacy-clauses=email-opt-out", REPORT_OPTION
    )


def test_a_module_that_sends_no_email_is_not_applicable_once_verified(
    pytester: pytest.Pytester,
) -> None:
    result = run_silent(pytester, "pass")
    report = assert_checks_ended(
        result, pytester.path / REPORT_DIR, dict.fromkeys(MAIL_CHECKS, "not applicable")
    )
    (finding,) = report.findings()
    assert finding["summary"] == (
        "not applicable: Silent declares sends_email = False, and no message reached the "
        "mail sink through register(), delete()"
    )


def test_a_module_declared_silent_that_sends_mail_fails(pytester: pytest.Pytester) -> None:
    result = run_silent(pytester, "self._welcome(person)")
    report = assert_checks_ended(
        result, pytester.path / REPORT_DIR, dict.fromkeys(MAIL_CHECKS, "failed")
    )
    (finding,) = report.findings()
    assert "Silent.sends_email = False, yet the module sent e-mail" in finding["summary"]
    (evidence,) = finding["evidence"]
    assert evidence["location"] == "mail-from-a-module-declared-silent"
    assert evidence["step"] == "register()"
    assert "subject 'Welcome to the shop'" in evidence["text"]
