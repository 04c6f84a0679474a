"""A small shop that mails the way web frameworks do, for the mail checks' own tests.

Every link in its marketing goes through click tracking (``/c/<token>``), so
only the anchor's text says which one unsubscribes; a new account gets
django-allauth's address confirmation, the service mail is Django's password
reset, and deleting an account sends a receipt to the person deleted. None of
it carries a category header: the suite must recognise it unaided.
``TrackedShop`` keeps every promise and must come out clean; each class after
it breaks one.
"""

from __future__ import annotations

import hashlib
import secrets
import smtplib
import sqlite3
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_stexcel_privacy import Person, RegistrationRejected
from toy_adapter import ToyAdapter

SITE = "Tracked Shop"
CLICK = "https://shop.example/c/"
ONE_CLICK = "https://shop.example/one-click/"


class UnknownLink(ValueError):
    pass


class TrackedShop(ToyAdapter):
    """The account is the row id; opt-outs live in memory, and survive deletion as the
    address's digest only."""

    def __init__(self, workdir: Path, smtp: tuple[str, int]) -> None:
        super().__init__(workdir)
        self.smtp = smtp
        self.opted_out: set[int] = set()
        self.suppressed: set[str] = set()  # digests of deleted addresses that had opted out
        self.clicks: dict[str, tuple[str, int]] = {}  # token -> (what a click does, account)

    # --- the module's mail ------------------------------------------------------------

    def _email(self, account: int) -> str:
        with sqlite3.connect(self.path) as db:
            row = db.execute("SELECT email FROM people WHERE id = ?", (account,)).fetchone()
        return str(row[0])

    def _accounts(self) -> list[int]:
        with sqlite3.connect(self.path) as db:
            return [row[0] for row in db.execute("SELECT id FROM people ORDER BY id")]

    def _track(self, action: str, account: int) -> str:
        token = secrets.token_hex(12)
        self.clicks[token] = (action, account)
        return token

    def _send(self, to: str, subject: str, text: str = "", html: str = "", **headers: str) -> None:
        message = EmailMessage()
        message["From"] = f"{SITE} <hello@shop.example>"
        message["To"] = to
        message["Subject"] = subject
        for name, value in headers.items():
            message[name.replace("_", "-")] = value
        if html:
            message.set_content(html, subtype="html")
        else:
            message.set_content(text)
        with smtplib.SMTP(*self.smtp, timeout=10) as client:
            client.send_message(message)

    def _campaign_mail(self, account: int) -> None:
        shop = CLICK + self._track("shop", account)
        unsubscribe = CLICK + self._track("unsubscribe", account)
        one_click = ONE_CLICK + self._track("unsubscribe", account)
        self._send(
            self._email(account),
            "Summer sale: 20% off rings",
            html=(
                f'<p>Our summer sale is on. <a href="{shop}">Shop the sale</a></p>'
                f'<p style="font-size:small">Not interested? <a href="{unsubscribe}" '
                f'title="Stop these e-mails">Unsubscribe</a></p>'
            ),
            List_Unsubscribe=f"<{one_click}>",
            List_Unsubscribe_Post="List-Unsubscribe=One-Click",
        )

    def _receipt(self, account: int) -> None:
        self._send(
            self._email(account),
            "Your data has been deleted",
            "As you asked, we deleted your account and everything we held about you.",
        )

    # --- the adapter ------------------------------------------------------------------

    def register(self, person: Person) -> Any:
        born, today = person.birth_date, date.today()
        if (
            born
            and today.year - born.year - ((today.month, today.day) < (born.month, born.day)) < 13
        ):
            raise RegistrationRejected("under 13")
        account = super().register(person)
        if _digest(person.email) in self.suppressed:
            self.opted_out.add(account)
        self._send(
            person.email,
            f"[{SITE}] Please Confirm Your E-mail Address",
            f"Confirm your address: https://shop.example/confirm/{secrets.token_hex(8)}",
        )
        return account

    def opt_out(self, account: int) -> None:
        self.opted_out.add(account)

    def unsubscribe(self, link: str) -> None:
        token = urlsplit(link).path.rsplit("/", 1)[-1]
        if token not in self.clicks:
            raise UnknownLink(f"no such link: {link}")
        action, account = self.clicks[token]
        if action == "unsubscribe":
            self.opted_out.add(account)

    def send_marketing(self) -> None:
        for account in self._accounts():
            if account not in self.opted_out:
                self._campaign_mail(account)

    def send_transactional(self, account: int) -> None:
        self._send(
            self._email(account),
            f"Password reset on {SITE}",
            "You're receiving this email because you requested a password reset for your "
            f"user account at {SITE}.\n\nPlease go to the following page and choose a new "
            f"password:\nhttps://shop.example/reset/{secrets.token_hex(8)}/\n",
        )

    def delete(self, account: int) -> None:
        email = self._email(account)
        self._receipt(account)
        if account in self.opted_out:
            self.suppressed.add(_digest(email))
        super().delete(account)
        self.opted_out.discard(account)
        self.clicks = {t: c for t, c in self.clicks.items() if c[1] != account}


def _digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


# --- broken variants ----------------------------------------------------------------------


class TrackedUnsubscribeIgnored(TrackedShop):
    """Only the one-click header link unsubscribes; the body's tracked link just counts."""

    def unsubscribe(self, link: str) -> None:
        if link.startswith(ONE_CLICK):
            super().unsubscribe(link)


class TrackedUnsubscribeHitsTheWrongPerson(TrackedShop):
    """The click tracker files each unsubscribe under the first account."""

    def _track(self, action: str, account: int) -> str:
        return super()._track(action, self._accounts()[0] if action == "unsubscribe" else account)


class FarewellOffer(TrackedShop):
    """Dresses a win-back offer as the deletion receipt: a notice's subject, but marked
    marketing, with an unsubscribe header."""

    def _receipt(self, account: int) -> None:
        self._send(
            self._email(account),
            "Your account has been deleted",
            "Sorry to see you go! Come back within 30 days for 20% off.",
            X_Mail_Category="marketing",
            List_Unsubscribe=f"<{ONE_CLICK}{self._track('unsubscribe', account)}>",
            List_Unsubscribe_Post="List-Unsubscribe=One-Click",
        )


class ReceiptSentLater(TrackedShop):
    """Queues the deletion receipt and sends it with the next campaign, when the person is
    long gone."""

    def __init__(self, workdir: Path, smtp: tuple[str, int]) -> None:
        super().__init__(workdir, smtp)
        self.queued: list[str] = []

    def _receipt(self, account: int) -> None:
        self.queued.append(self._email(account))

    def send_marketing(self) -> None:
        for email in self.queued:
            self._send(email, "Your data has been deleted", "We deleted your account.")
        self.queued.clear()
        super().send_marketing()
