"""A repair workshop's ERP on plain ``sqlite3``: customers, repair tickets, invoices.

What makes it a different shape from the jewelry example:

* plain ``sqlite3``, foreign keys with ``ON DELETE CASCADE`` doing most of a
  deletion, and an FTS5 index (``customer_search``) over each customer's name,
  e-mail and ticket notes, merged with ``'optimize'`` when someone is deleted
  so that no segment keeps their terms;
* marketing mail whose every link goes through click tracking
  (``https://workshop.example/c/<token>``), the unsubscribe anchor included;
  the ``List-Unsubscribe`` header carries the real targets, with one-click;
* a deletion receipt e-mailed to the person while their data is deleted;
* a birth date is required at sign-up;
* a business date of its own (:class:`Clock`): set at start-up from the wall
  clock in the workshop's zone, then moved only by the day close or an
  operator, never by the process's clock.

The opt-out is a flag on the account, and it goes with the account.
"""

from __future__ import annotations

import contextlib
import html
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .shared import (
    LineLog,
    ProviderClient,
    RegistrationRefused,
    e164,
    mailto_subject,
    old_enough,
    send_mail,
)

TIME_ZONE = "America/Chicago"
LEAP_DAY_BIRTHDAY: Final = "february-28"
SITE = "https://workshop.example"
SENDER = "Northside Repair Workshop <desk@workshop.example>"
UNSUBSCRIBE_MAILBOX = "unsubscribe@workshop.example"

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    phone TEXT NOT NULL,
    employer TEXT NOT NULL DEFAULT '',
    job_title TEXT NOT NULL DEFAULT '',
    birth_date TEXT NOT NULL,
    street TEXT NOT NULL,
    city TEXT NOT NULL,
    state TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    marketing INTEGER NOT NULL DEFAULT 1,
    joined_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    item TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ticket_notes (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    written_on TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS invoices (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    ticket_id INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
    billing_name TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    card_last4 TEXT NOT NULL,
    authorisation TEXT NOT NULL,
    issued_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    category TEXT NOT NULL,
    message BLOB NOT NULL,
    queued_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE TABLE IF NOT EXISTS tracked_links (
    token TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,          -- 'click' (redirects to target) or 'unsubscribe'
    target TEXT
);
CREATE TABLE IF NOT EXISTS clicks (
    id INTEGER PRIMARY KEY,
    token TEXT NOT NULL REFERENCES tracked_links(token) ON DELETE CASCADE,
    clicked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS activity (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    what TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS customer_search USING fts5(name, email, notes);
"""

CAMPAIGN_LINKS = (
    ("Book a winter tune-up", f"{SITE}/offers/winter-tune-up"),
    ("Our opening hours", f"{SITE}/hours"),
)


class InvalidLink(ValueError):
    """A link this workshop never issued, or one edited since."""


class Clock:
    """The workshop's business date, in its own time zone.

    Taken from the wall clock once, when the service starts; after that only
    the day close (:meth:`close_day`) or an operator (:meth:`set`) moves it, so
    a sign-up late at night still counts on the day being worked.
    """

    def __init__(self, zone: str = TIME_ZONE) -> None:
        self.zone = ZoneInfo(zone)
        self._today = datetime.now(self.zone).date()

    def today(self) -> date:
        return self._today

    def set(self, day: date) -> None:
        self._today = day

    def close_day(self) -> None:
        self._today += timedelta(days=1)


class PaymentTerminal:
    """The card terminal: authorises a charge and hands back a code. The card number is
    used here, for the charge, and never leaves it."""

    def authorise(self, card_number: str, amount_cents: int) -> str:
        digits = "".join(c for c in card_number if c.isdigit())
        if len(digits) < 12 or amount_cents <= 0:
            raise ValueError("declined")
        return "AUTH-" + secrets.token_hex(4).upper()


@dataclass(frozen=True)
class Customer:
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    marketing: bool

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class WorkshopService:
    def __init__(
        self,
        database: Path,
        files_root: Path,
        sms_url: str,
        smtp: tuple[str, int] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.database = database
        self.database.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock or Clock()
        self.smtp = smtp
        self.sms = ProviderClient(sms_url)
        self.terminal = PaymentTerminal()
        self.log = LineLog(files_root / "logs" / "workshop.log")
        with contextlib.closing(self._connect()) as conn:
            conn.executescript(SCHEMA)

    # --- the database ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.database, timeout=10)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        # Deleted rows are overwritten, not left readable in free pages.
        conn.execute("PRAGMA secure_delete = ON")
        return conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def _customer(self, conn: sqlite3.Connection, customer_id: int) -> Customer:
        row = conn.execute(
            "SELECT id, first_name, last_name, email, phone, marketing FROM customers WHERE id = ?",
            (customer_id,),
        ).fetchone()
        if row is None:
            raise LookupError(f"no customer {customer_id}")
        return Customer(
            int(row["id"]),
            str(row["first_name"]),
            str(row["last_name"]),
            str(row["email"]),
            str(row["phone"]),
            bool(row["marketing"]),
        )

    def _note(self, conn: sqlite3.Connection, customer_id: int, what: str) -> None:
        conn.execute(
            "INSERT INTO activity (customer_id, at, what) VALUES (?, ?, ?)",
            (customer_id, self.clock.today().isoformat(), what),
        )

    def _reindex(self, conn: sqlite3.Connection, customer_id: int) -> None:
        """The search row of one customer: their name, e-mail and every ticket note."""
        customer = self._customer(conn, customer_id)
        notes = [
            f"{item}: {body}"
            for item, body in conn.execute(
                "SELECT t.item, n.body FROM tickets t JOIN ticket_notes n ON n.ticket_id = t.id "
                "WHERE t.customer_id = ? ORDER BY n.id",
                (customer_id,),
            )
        ]
        conn.execute("DELETE FROM customer_search WHERE rowid = ?", (customer_id,))
        conn.execute(
            "INSERT INTO customer_search (rowid, name, email, notes) VALUES (?, ?, ?, ?)",
            (customer_id, customer.full_name, customer.email, "\n".join(notes)),
        )

    def search(self, query: str) -> list[int]:
        """The front desk's search box."""
        with self._transaction() as conn:
            return [
                row[0]
                for row in conn.execute(
                    "SELECT rowid FROM customer_search WHERE customer_search MATCH ? ORDER BY rank",
                    (query,),
                )
            ]

    # --- customers --------------------------------------------------------------------------

    def register(self, fields: dict[str, Any]) -> int:
        """Sign a customer up. The birth date is required and checked before anything is
        written, sent or logged, on the workshop's business date."""
        born: date | None = fields.get("birth_date")
        if born is None:
            self.log.write("sign-up refused: no birth date")
            raise RegistrationRefused("a birth date is required to open an account")
        if not old_enough(born, self.clock.today(), LEAP_DAY_BIRTHDAY):
            self.log.write("sign-up refused: under 13")
            raise RegistrationRefused("customers must be at least 13 years old")
        email = str(fields["email"]).strip().lower()
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO customers (first_name, last_name, email, phone, employer, job_title, "
                "birth_date, street, city, state, postal_code, marketing, joined_on) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                (
                    fields["first_name"],
                    fields["last_name"],
                    email,
                    fields["phone"],
                    fields["employer"],
                    fields["job_title"],
                    born.isoformat(),
                    fields["street"],
                    fields["city"],
                    fields["state"],
                    fields["postal_code"],
                    self.clock.today().isoformat(),
                ),
            )
            customer_id = int(cursor.lastrowid or 0)
            self._reindex(conn, customer_id)
            self._note(conn, customer_id, f"signed up as {email}")
            customer = self._customer(conn, customer_id)
            self._queue(conn, customer, "Welcome to Northside Repair", "transactional")
        self.sms.call(
            "POST", "/contacts", {"phone": e164(customer.phone), "first_name": customer.first_name}
        )
        self.log.write(f"[customer {customer_id}] signed up as {email}")
        self.deliver()
        return customer_id

    def import_customer(self, fields: dict[str, Any]) -> int:
        """The CRM import: a known address (any case) updates that customer and keeps their
        consent; a new one signs up like anyone else."""
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT id FROM customers WHERE email = ?", (str(fields["email"]).strip(),)
            ).fetchone()
            if row is not None:
                conn.execute(
                    "UPDATE customers SET first_name = ?, last_name = ?, phone = ? WHERE id = ?",
                    (fields["first_name"], fields["last_name"], fields["phone"], row[0]),
                )
                self._reindex(conn, row[0])
                self._note(conn, row[0], "updated by the CRM import")
                return int(row[0])
        return self.register(fields)

    def update_profile(self, customer_id: int, first_name: str, last_name: str, email: str) -> None:
        email = email.strip().lower()
        with self._transaction() as conn:
            self._customer(conn, customer_id)
            conn.execute(
                "UPDATE customers SET first_name = ?, last_name = ?, email = ? WHERE id = ?",
                (first_name, last_name, email, customer_id),
            )
            self._reindex(conn, customer_id)
            self._note(conn, customer_id, f"profile changed: {first_name} {last_name} <{email}>")
        self.log.write(f"[customer {customer_id}] profile changed")

    def correct_birth_date(self, customer_id: int, born: date | None) -> None:
        """The profile page. The birth date stays required; a corrected one under 13 means
        the account should never have been opened, so it is deleted."""
        if born is None:
            raise ValueError("a birth date is required; it can be corrected, not removed")
        if not old_enough(born, self.clock.today(), LEAP_DAY_BIRTHDAY):
            self.log.write(f"[customer {customer_id}] is under 13: closing the account")
            self.delete(customer_id)
            return
        with self._transaction() as conn:
            self._customer(conn, customer_id)
            conn.execute(
                "UPDATE customers SET birth_date = ? WHERE id = ?", (born.isoformat(), customer_id)
            )

    def set_marketing(self, customer_id: int, wanted: bool) -> None:
        with self._transaction() as conn:
            self._customer(conn, customer_id)
            conn.execute(
                "UPDATE customers SET marketing = ? WHERE id = ?", (int(wanted), customer_id)
            )
            self._note(conn, customer_id, f"marketing {'on' if wanted else 'off'}")
        self.log.write(f"[customer {customer_id}] marketing {'on' if wanted else 'off'}")

    # --- repairs and payments ------------------------------------------------------------

    def open_ticket(self, customer_id: int, item: str) -> int:
        with self._transaction() as conn:
            customer = self._customer(conn, customer_id)
            cursor = conn.execute(
                "INSERT INTO tickets (customer_id, item, status, opened_on) VALUES (?, ?, ?, ?)",
                (customer_id, item, "open", self.clock.today().isoformat()),
            )
            ticket_id = int(cursor.lastrowid or 0)
            self._add_note(
                conn,
                ticket_id,
                f"Dropped off by {customer.full_name}; call {customer.phone} when ready.",
            )
            self._reindex(conn, customer_id)
        self.log.write(f"[customer {customer_id}] opened ticket {ticket_id} ({item})")
        return ticket_id

    def _add_note(self, conn: sqlite3.Connection, ticket_id: int, body: str) -> None:
        conn.execute(
            "INSERT INTO ticket_notes (ticket_id, written_on, body) VALUES (?, ?, ?)",
            (ticket_id, self.clock.today().isoformat(), body),
        )

    def _latest_ticket(self, customer_id: int, item: str) -> int:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT max(id) FROM tickets WHERE customer_id = ?", (customer_id,)
            ).fetchone()
        return int(row[0]) if row[0] is not None else self.open_ticket(customer_id, item)

    def add_ticket_note(self, customer_id: int, body: str) -> None:
        ticket_id = self._latest_ticket(customer_id, "pocket watch")
        with self._transaction() as conn:
            self._add_note(conn, ticket_id, body)
            self._reindex(conn, customer_id)

    def text_pickup_reminder(self, customer_id: int) -> None:
        """An SMS through the provider, which therefore holds the phone number."""
        ticket_id = self._latest_ticket(customer_id, "wristwatch")
        with self._transaction() as conn:
            customer = self._customer(conn, customer_id)
            self._note(conn, customer_id, f"pick-up reminder for ticket {ticket_id} texted")
        self.sms.call(
            "POST",
            "/messages",
            {
                "to": e164(customer.phone),
                "text": f"Hi {customer.first_name}, ticket {ticket_id} is ready for pick-up.",
            },
        )
        self.log.write(f"[customer {customer_id}] texted {customer.phone} about ticket {ticket_id}")

    def pay(self, customer_id: int, card_number: str, amount_cents: int = 12_500) -> str:
        """Pay for the latest repair. The terminal sees the card; the invoice keeps its last
        four digits and the authorisation code."""
        ticket_id = self._latest_ticket(customer_id, "battery replacement")
        authorisation = self.terminal.authorise(card_number, amount_cents)
        last4 = "".join(c for c in card_number if c.isdigit())[-4:]
        with self._transaction() as conn:
            customer = self._customer(conn, customer_id)
            cursor = conn.execute(
                "INSERT INTO invoices (number, customer_id, ticket_id, billing_name, amount_cents, "
                "card_last4, authorisation, issued_on) VALUES ('', ?, ?, ?, ?, ?, ?, ?)",
                (
                    customer_id,
                    ticket_id,
                    customer.full_name,
                    amount_cents,
                    last4,
                    authorisation,
                    self.clock.today().isoformat(),
                ),
            )
            invoice_id = int(cursor.lastrowid or 0)
            number = f"W-{invoice_id:06d}"
            conn.execute("UPDATE invoices SET number = ? WHERE id = ?", (number, invoice_id))
            conn.execute("UPDATE tickets SET status = 'paid' WHERE id = ?", (ticket_id,))
            self._queue(
                conn, customer, f"Receipt {number}: paid with card ending {last4}", "receipt"
            )
        self.log.write(f"[customer {customer_id}] paid {number} with card ending {last4}")
        self.deliver()
        return number

    # --- mail --------------------------------------------------------------------------------

    def _queue(
        self,
        conn: sqlite3.Connection,
        customer: Customer,
        subject: str,
        category: str,
        message: EmailMessage | None = None,
    ) -> None:
        if message is None:
            message = self._plain(customer, subject, category)
        conn.execute(
            "INSERT INTO outbox (customer_id, to_address, subject, category, message, queued_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                customer.id,
                customer.email,
                subject,
                category,
                bytes(message),
                datetime.now(UTC).isoformat(),
            ),
        )

    @staticmethod
    def _plain(customer: Customer, subject: str, category: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = SENDER
        message["To"] = customer.email
        message["Subject"] = subject
        message["X-Mail-Category"] = category
        message.set_content(f"Dear {customer.first_name},\n\n{subject}.\n\nNorthside Repair\n")
        return message

    def deliver(self) -> int:
        """Send everything queued, oldest first; sent messages stay as the customer's history."""
        with self._transaction() as conn:
            pending = conn.execute(
                "SELECT id, message FROM outbox WHERE sent_at IS NULL ORDER BY id"
            ).fetchall()
            messages = [_parse(row["message"]) for row in pending]
            sent = send_mail(self.smtp, messages)
            if sent:
                conn.executemany(
                    "UPDATE outbox SET sent_at = ? WHERE id = ?",
                    [(datetime.now(UTC).isoformat(), row["id"]) for row in pending],
                )
        return sent

    def send_service_mail(self, customer_id: int, subject: str) -> None:
        """Service mail reaches every customer: an opt-out covers marketing only."""
        with self._transaction() as conn:
            self._queue(conn, self._customer(conn, customer_id), subject, "transactional")
        self.deliver()

    def send_campaign(self, subject: str) -> int:
        with self._transaction() as conn:
            ids = [
                row[0]
                for row in conn.execute("SELECT id FROM customers WHERE marketing = 1 ORDER BY id")
            ]
            for customer_id in ids:
                customer = self._customer(conn, customer_id)
                message = self._campaign_message(conn, customer, subject)
                self._queue(conn, customer, subject, "marketing", message)
        self.log.write(f"campaign {subject!r} queued for {len(ids)} customers")
        self.deliver()
        return len(ids)

    def _token(self, conn: sqlite3.Connection, customer_id: int, purpose: str, target: str) -> str:
        token = secrets.token_urlsafe(12)
        conn.execute(
            "INSERT INTO tracked_links (token, customer_id, purpose, target) VALUES (?, ?, ?, ?)",
            (token, customer_id, purpose, target),
        )
        return token

    def _campaign_message(
        self, conn: sqlite3.Connection, customer: Customer, subject: str
    ) -> EmailMessage:
        """Every link in the body goes through click tracking, the unsubscribe link too; the
        List-Unsubscribe header names the unsubscribe page itself, with one-click."""
        leave = self._token(conn, customer.id, "unsubscribe", "")
        page = f"{SITE}/unsubscribe/{leave}"
        links = [
            (text, f"{SITE}/c/{self._token(conn, customer.id, 'click', target)}")
            for text, target in (*CAMPAIGN_LINKS, ("Unsubscribe", page))
        ]
        message = EmailMessage()
        message["From"] = SENDER
        message["To"] = customer.email
        message["Subject"] = subject
        message["X-Mail-Category"] = "marketing"
        message["List-Unsubscribe"] = (
            f"<{page}>, <mailto:{UNSUBSCRIBE_MAILBOX}?subject=unsubscribe%20{leave}>"
        )
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        text_links = "\n".join(f"{text}: {url}" for text, url in links)
        message.set_content(f"Hello {customer.first_name},\n\n{subject}.\n\n{text_links}\n")
        anchors = "".join(f'<p><a href="{url}">{html.escape(text)}</a></p>' for text, url in links)
        message.add_alternative(
            f"<html><body><p>Hello {html.escape(customer.first_name)},</p>"
            f"<p>{html.escape(subject)}.</p>{anchors}</body></html>",
            subtype="html",
        )
        return message

    # --- the web endpoints behind the links -------------------------------------------------

    def click(self, url: str) -> str:
        """``GET /c/<token>``: record the click, answer with where it redirects."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != SITE or not parts.path.startswith("/c/"):
            return url  # not a tracked link: nothing to record
        token = parts.path.removeprefix("/c/")
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT target FROM tracked_links WHERE token = ? AND purpose = 'click'", (token,)
            ).fetchone()
            if row is None:
                raise InvalidLink("unknown tracking link")
            conn.execute(
                "INSERT INTO clicks (token, clicked_at) VALUES (?, ?)",
                (token, datetime.now(UTC).isoformat()),
            )
        return str(row["target"])

    def unsubscribe_page(self, url: str) -> None:
        """``POST /unsubscribe/<token>``: the page's button, and RFC 8058 one-click."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != SITE or not parts.path.startswith("/unsubscribe/"):
            raise InvalidLink(f"not an unsubscribe page: {url!r}")
        self._unsubscribe_token(parts.path.removeprefix("/unsubscribe/"))

    def unsubscribe_mail(self, mailto: str) -> None:
        """A message to the unsubscribe mailbox, subject ``unsubscribe <token>``."""
        mailbox, words = mailto_subject(mailto)
        if mailbox != UNSUBSCRIBE_MAILBOX or len(words) != 2 or words[0] != "unsubscribe":
            raise InvalidLink("not an unsubscribe request")
        self._unsubscribe_token(words[1])

    def _unsubscribe_token(self, token: str) -> None:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT customer_id FROM tracked_links WHERE token = ? AND purpose = 'unsubscribe'",
                (token,),
            ).fetchone()
        if row is None:
            raise InvalidLink("unknown or altered unsubscribe link")
        self.set_marketing(int(row[0]), False)

    # --- the verified deletion request ------------------------------------------------------

    def delete(self, customer_id: int) -> None:
        """Carry out a verified "delete my data" request.

        The SMS provider is told first (a failure there aborts the deletion).
        Deleting the customer row cascades to tickets, notes, the outbox, tracked
        links, clicks and activity; invoices keep the billing name for the tax
        records and lose the link to the customer. The search index drops the
        row and is merged, so no segment keeps the deleted terms. Then the log
        lines go, and a receipt is sent to the address, never stored.
        """
        with self._transaction() as conn:
            customer = self._customer(conn, customer_id)
            self.sms.call("POST", "/erasure", {"phone": e164(customer.phone)})
            conn.execute("DELETE FROM customer_search WHERE rowid = ?", (customer_id,))
            conn.execute("DELETE FROM customers WHERE id = ?", (customer_id,))
            conn.execute("INSERT INTO customer_search (customer_search) VALUES ('optimize')")
        email = customer.email.lower()
        marker = f"[customer {customer_id}]"
        self.log.purge(lambda line: marker in line or email in line.lower())
        self.log.write(f"customer {customer_id} deleted on request")
        self.send_receipt(customer)

    def send_receipt(self, customer: Customer) -> None:
        """Tell the person their data is gone: straight to SMTP, never queued or stored."""
        message = EmailMessage()
        message["From"] = SENDER
        message["To"] = customer.email
        message["Subject"] = "Your data has been deleted"
        message["X-Mail-Category"] = "notice"
        message.set_content(
            "Hello,\n\nas you asked, we have deleted your account and your personal data.\n"
            "Invoices keep the billing name, as tax law requires.\n\nNorthside Repair\n"
        )
        send_mail(self.smtp, [message])


def _parse(raw: bytes) -> EmailMessage:
    from email import message_from_bytes, policy

    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message
