"""A made-to-order atelier's ERP on SQLAlchemy Core, with each client's documents on disk.

What makes it a different shape from the jewelry example and the workshop:

* SQLAlchemy Core tables keyed by a random client id (a UUID), deleted table
  by table from one list, no ORM and no cascades;
* a document folder per client (quotes as PDF, measurements as CSV) and
  bulk exports, all under one directory;
* it keeps **no suppression list**: after deletion nothing of the client
  remains, not even a hash of the address, and a later sign-up with the same
  address is a new client like any other (on the newsletter by default);
* its own mail header, ``X-Atelier-Kind`` (``lookbook`` is marketing,
  ``atelier-update`` is service mail), and password-reset mail that carries
  no category header at all, as a web framework's reset mail would;
* ages judged on the calendar date in New York, from the process's clock.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
import shutil
import uuid
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event

from .shared import (
    LineLog,
    ProviderClient,
    RegistrationRefused,
    e164,
    mailto_subject,
    old_enough,
    replace_file,
    send_mail,
)

TIME_ZONE = "America/New_York"
LEAP_DAY_BIRTHDAY: Final = "march-1"
SITE = "https://atelier.example"
SENDER = "Maison Stexcel Atelier <studio@atelier.example>"
LEAVE_URL = f"{SITE}/newsletter/leave"
LEAVE_MAILBOX = "leave@atelier.example"
KIND_HEADER = "X-Atelier-Kind"
EXPORT_HEADER = ("client", "name", "email", "phone", "city")

metadata = sa.MetaData()
clients = sa.Table(
    "clients",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("given_name", sa.Unicode(200), nullable=False),
    sa.Column("family_name", sa.Unicode(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=False, unique=True),  # lower-case
    sa.Column("phone", sa.String(40), nullable=False),
    sa.Column("company", sa.Unicode(200)),
    sa.Column("position", sa.Unicode(200)),
    sa.Column("born", sa.Date, nullable=False),
    sa.Column("street", sa.Unicode(300), nullable=False),
    sa.Column("city", sa.Unicode(100), nullable=False),
    sa.Column("state", sa.String(2), nullable=False),
    sa.Column("postcode", sa.String(10), nullable=False),
    sa.Column("newsletter", sa.Boolean, nullable=False),
    sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
)
measurements = sa.Table(
    "measurements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("taken_on", sa.Date, nullable=False),
    sa.Column("chest_cm", sa.Integer),
    sa.Column("waist_cm", sa.Integer),
    sa.Column("remarks", sa.UnicodeText),
)
commissions = sa.Table(
    "commissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # kept for the sales figures once the client is deleted, with nothing that names them
    sa.Column("client_id", sa.ForeignKey("clients.id"), nullable=True),
    sa.Column("garment", sa.Unicode(200), nullable=False),
    sa.Column("price_cents", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("deposit_card_last4", sa.String(4)),
    sa.Column("created_on", sa.Date, nullable=False),
)
fittings = sa.Table(
    "fittings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("commission_id", sa.ForeignKey("commissions.id")),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("notes", sa.UnicodeText),
)
documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("path", sa.String(300), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
)
reset_tokens = sa.Table(
    "reset_tokens",
    metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)
mail_log = sa.Table(
    "mail_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("subject", sa.Unicode(300), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
)
# Every table that holds rows about one client, children before the client itself.
PERSONAL_TABLES = (fittings, measurements, documents, reset_tokens, mail_log)


class NotAClient(LookupError):
    pass


class InvalidLeaveLink(ValueError):
    """An unsubscribe link this atelier never issued, or one edited since."""


def _secure_delete(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()


class AtelierService:
    def __init__(
        self,
        database: Path,
        documents_root: Path,
        couriers_url: str,
        smtp: tuple[str, int] | None = None,
        secret: bytes | None = None,
    ) -> None:
        database.parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(f"sqlite:///{database}")
        event.listen(self.engine, "connect", _secure_delete)
        metadata.create_all(self.engine)
        self.root = documents_root
        (self.root / "clients").mkdir(parents=True, exist_ok=True)
        (self.root / "exports").mkdir(parents=True, exist_ok=True)
        self.log = LineLog(self.root / "logs" / "atelier.log")
        self.couriers = ProviderClient(couriers_url)
        self.smtp = smtp
        self.secret = secret or secrets.token_bytes(32)

    def close(self) -> None:
        self.engine.dispose()

    @staticmethod
    def today() -> date:
        """The atelier's calendar date: ages change at midnight in New York."""
        return datetime.now(ZoneInfo(TIME_ZONE)).date()

    def _client(self, conn: sa.Connection, client_id: str) -> sa.Row[Any]:
        row = conn.execute(sa.select(clients).where(clients.c.id == client_id)).one_or_none()
        if row is None:
            raise NotAClient(f"no client {client_id}")
        return row

    # --- clients ---------------------------------------------------------------------------

    def sign_up(self, form: dict[str, Any]) -> str:
        """A new client: checked for age before anything is written or sent."""
        born: date | None = form.get("birth_date")
        if not old_enough(born, self.today(), LEAP_DAY_BIRTHDAY):
            raise RegistrationRefused(
                "we need a birth date showing you are 13 or over to open an account"
            )
        client_id = uuid.uuid4().hex
        email = str(form["email"]).strip().lower()
        with self.engine.begin() as conn:
            conn.execute(
                clients.insert().values(
                    id=client_id,
                    given_name=form["first_name"],
                    family_name=form["last_name"],
                    email=email,
                    phone=form["phone"],
                    company=form["employer"],
                    position=form["job_title"],
                    born=born,
                    street=form["street"],
                    city=form["city"],
                    state=form["state"],
                    postcode=form["postal_code"],
                    newsletter=True,
                    joined_at=datetime.now(UTC),
                )
            )
        self.log.write(f"client={client_id} joined")
        self._send(client_id, "Welcome to the atelier", "atelier-update")
        return client_id

    def import_client(self, form: dict[str, Any]) -> str:
        """CRM import: a known address updates its client, keeping their newsletter choice."""
        email = str(form["email"]).strip().lower()
        with self.engine.begin() as conn:
            known = conn.execute(sa.select(clients.c.id).where(clients.c.email == email)).scalar()
            if known is not None:
                conn.execute(
                    clients.update()
                    .where(clients.c.id == known)
                    .values(
                        given_name=form["first_name"],
                        family_name=form["last_name"],
                        phone=form["phone"],
                    )
                )
                return str(known)
        return self.sign_up(form)

    def edit_profile(self, client_id: str, given_name: str, family_name: str, email: str) -> None:
        with self.engine.begin() as conn:
            self._client(conn, client_id)
            conn.execute(
                clients.update()
                .where(clients.c.id == client_id)
                .values(given_name=given_name, family_name=family_name, email=email.lower())
            )
        self.log.write(f"client={client_id} edited their profile")

    def correct_birth_date(self, client_id: str, born: date | None) -> None:
        """An account must show its holder is 13 or over: a corrected birth date that does
        not (under 13, or withdrawn) closes it, deleting everything as on request."""
        if not old_enough(born, self.today(), LEAP_DAY_BIRTHDAY):
            self.log.write(f"client={client_id} no longer shown to be 13 or over")
            self.forget(client_id)
            return
        with self.engine.begin() as conn:
            self._client(conn, client_id)
            conn.execute(clients.update().where(clients.c.id == client_id).values(born=born))

    def set_newsletter(self, client_id: str, wanted: bool) -> None:
        with self.engine.begin() as conn:
            self._client(conn, client_id)
            conn.execute(
                clients.update().where(clients.c.id == client_id).values(newsletter=wanted)
            )
        self.log.write(f"client={client_id} newsletter={'yes' if wanted else 'no'}")

    # --- commissions and documents -----------------------------------------------------------

    def commission(self, client_id: str, garment: str, price_cents: int) -> int:
        with self.engine.begin() as conn:
            client = self._client(conn, client_id)
            inserted = conn.execute(
                commissions.insert().values(
                    client_id=client_id,
                    garment=garment,
                    price_cents=price_cents,
                    status="quoted",
                    created_on=self.today(),
                )
            ).inserted_primary_key
            assert inserted is not None
            commission_id = int(inserted[0])
            path = f"clients/{client_id}/quote-{commission_id}.pdf"
            conn.execute(documents.insert().values(client_id=client_id, path=path, kind="quote"))
        self._write(path, quote_pdf(client, garment, price_cents))
        self.log.write(f"client={client_id} commission {commission_id}: {garment}")
        self._send(client_id, f"Your quote for a {garment}", "atelier-update")
        return commission_id

    def _latest_commission(self, client_id: str) -> int:
        with self.engine.begin() as conn:
            latest = conn.execute(
                sa.select(sa.func.max(commissions.c.id)).where(commissions.c.client_id == client_id)
            ).scalar()
        if latest is None:
            return self.commission(client_id, "linen suit", 180_000)
        return int(latest)

    def pay_deposit(self, client_id: str, card_number: str) -> None:
        """The deposit is charged at the counter's terminal; only the last four digits are
        written down."""
        commission_id = self._latest_commission(client_id)
        digits = "".join(c for c in card_number if c.isdigit())
        if len(digits) < 12:
            raise ValueError("declined")
        with self.engine.begin() as conn:
            conn.execute(
                commissions.update()
                .where(commissions.c.id == commission_id)
                .values(status="deposit paid", deposit_card_last4=digits[-4:])
            )
        self.log.write(f"client={client_id} deposit on {commission_id}, card ending {digits[-4:]}")
        self._send(client_id, f"Deposit received for commission {commission_id}", "atelier-update")

    def take_measurements(self, client_id: str, remarks: str) -> None:
        with self.engine.begin() as conn:
            client = self._client(conn, client_id)
            conn.execute(
                measurements.insert().values(
                    client_id=client_id,
                    taken_on=self.today(),
                    chest_cm=98,
                    waist_cm=84,
                    remarks=remarks,
                )
            )
            path = f"clients/{client_id}/measurements.csv"
            conn.execute(
                documents.insert()
                .prefix_with("OR IGNORE")
                .values(client_id=client_id, path=path, kind="measurements")
            )
        text = io.StringIO()
        csv.writer(text).writerows(
            [("client", "chest_cm", "waist_cm", "remarks"), (_name(client), 98, 84, remarks)]
        )
        self._write(path, text.getvalue().encode("utf-8"))

    def book_fitting(self, client_id: str) -> None:
        commission_id = self._latest_commission(client_id)
        with self.engine.begin() as conn:
            client = self._client(conn, client_id)
            conn.execute(
                fittings.insert().values(
                    client_id=client_id,
                    commission_id=commission_id,
                    at=datetime.now(UTC) + timedelta(days=7),
                    notes=f"First fitting for {_name(client)}; confirm on {client.phone}",
                )
            )
        self._send(client_id, "Your fitting is booked", "atelier-update")

    def ship(self, client_id: str) -> None:
        """The courier collects a finished garment: it receives the delivery details."""
        commission_id = self._latest_commission(client_id)
        with self.engine.begin() as conn:
            client = self._client(conn, client_id)
        self.couriers.call(
            "POST",
            "/shipments",
            {
                "reference": f"A-{commission_id}",
                "recipient": _name(client),
                "street": client.street,
                "city": client.city,
                "state": client.state,
                "postcode": client.postcode,
                "phone": e164(client.phone),
            },
        )
        self.log.write(f"client={client_id} commission {commission_id} handed to the courier")

    def export_clients(self) -> Path:
        """The month-end client list for the studio's own bookkeeping; it stays here."""
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(clients).order_by(clients.c.joined_at)).all()
        number = 1 + len(list((self.root / "exports").glob("clients-*.csv")))
        path = self.root / "exports" / f"clients-{number:04d}.csv"
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(EXPORT_HEADER)
        writer.writerows((r.id, _name(r), r.email, r.phone, r.city) for r in rows)
        path.write_text(text.getvalue(), encoding="utf-8", newline="")
        return path

    def _write(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    # --- mail ----------------------------------------------------------------------------------

    def leave_signature(self, client_id: str) -> str:
        return hmac.new(self.secret, f"leave:{client_id}".encode(), hashlib.sha256).hexdigest()[:24]

    def _compose(self, client: sa.Row[Any], subject: str, kind: str | None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = SENDER
        message["To"] = client.email
        message["Subject"] = subject
        if kind is not None:
            message[KIND_HEADER] = kind
        return message

    def _send(self, client_id: str, subject: str, kind: str) -> None:
        with self.engine.begin() as conn:
            client = self._client(conn, client_id)
            message = self._compose(client, subject, kind)
            message.set_content(f"Dear {client.given_name},\n\n{subject}.\n\nThe atelier\n")
            self._log_mail(conn, client, subject, kind)
        send_mail(self.smtp, [message])

    def _log_mail(self, conn: sa.Connection, client: sa.Row[Any], subject: str, kind: str) -> None:
        conn.execute(
            mail_log.insert().values(
                client_id=client.id,
                recipient=client.email,
                subject=subject,
                kind=kind,
                sent_at=datetime.now(UTC),
            )
        )

    def send_lookbook(self, season: str) -> int:
        """The season's lookbook, to every client on the newsletter."""
        with self.engine.begin() as conn:
            readers = conn.execute(
                sa.select(clients).where(clients.c.newsletter).order_by(clients.c.id)
            ).all()
            messages = []
            for client in readers:
                leave = self.leave_url(client.id)
                mailto = (
                    f"mailto:{LEAVE_MAILBOX}?subject=leave%20{client.id}%20"
                    f"{self.leave_signature(client.id)}"
                )
                message = self._compose(client, f"The {season} lookbook", "lookbook")
                message["List-Unsubscribe"] = f"<{leave}>, <{mailto}>"
                message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
                message.set_content(
                    f"Dear {client.given_name},\n\nour {season} pieces are in.\n\n"
                    f"Leave the newsletter: {leave}\n"
                )
                message.add_alternative(
                    f"<p>Our {season} pieces are in.</p>"
                    f'<p><a href="{leave}">Leave the newsletter</a></p>',
                    subtype="html",
                )
                messages.append(message)
                self._log_mail(conn, client, f"The {season} lookbook", "lookbook")
        send_mail(self.smtp, messages)
        self.log.write(f"lookbook {season!r} sent to {len(messages)} clients")
        return len(messages)

    def leave_url(self, client_id: str) -> str:
        query = urlencode({"c": client_id, "s": self.leave_signature(client_id)})
        return f"{LEAVE_URL}?{query}"

    def leave(self, link: str) -> None:
        """The newsletter's leave endpoint (and its mailbox): a forged link changes nothing."""
        parts = urlsplit(link)
        if parts.scheme == "mailto":
            mailbox, words = mailto_subject(link)
            said = dict(zip(("mailbox", "verb", "c", "s"), [mailbox, *words], strict=False))
            if said.get("mailbox") != LEAVE_MAILBOX or said.get("verb") != "leave":
                raise InvalidLeaveLink("not a request to leave the newsletter")
        elif f"{parts.scheme}://{parts.netloc}{parts.path}" == LEAVE_URL:
            said = {key: values[0] for key, values in parse_qs(parts.query).items()}
        else:
            raise InvalidLeaveLink(f"not a newsletter link: {link!r}")
        client_id, signature = said.get("c", ""), said.get("s", "")
        if not hmac.compare_digest(signature, self.leave_signature(client_id)):
            raise InvalidLeaveLink("the link was altered or forged")
        self.set_newsletter(client_id, False)

    def request_password_reset(self, client_id: str) -> None:
        """A reset link, valid for an hour. Like most web frameworks' reset mail, it carries
        no category header of the atelier's own."""
        token = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            client = self._client(conn, client_id)
            conn.execute(
                reset_tokens.insert().values(
                    token_sha256=hashlib.sha256(token.encode()).hexdigest(),
                    client_id=client_id,
                    expires_at=datetime.now(UTC) + timedelta(hours=1),
                )
            )
            message = self._compose(client, "Password reset", None)
            message.set_content(
                "Someone asked to reset the password of your atelier account.\n"
                f"Choose a new one here within the hour: {SITE}/reset/{token}\n"
                "If it was not you, ignore this message.\n"
            )
        send_mail(self.smtp, [message])

    # --- the verified deletion request -----------------------------------------------------

    def forget(self, client_id: str) -> None:
        """Carry out a verified "delete my data" request: nothing of the client remains.

        The courier is asked to erase them first (a failure aborts the request).
        Every personal table loses the client's rows, commissions stay as
        anonymous sales figures, the client row goes, and no address or hash of
        one is kept: a later sign-up with the same address is a new client.
        Then their document folder, their rows in every export, and the log
        lines about them.
        """
        with self.engine.begin() as conn:
            client = self._client(conn, client_id)
            self.couriers.call(
                "POST", "/erasure", {"phone": e164(client.phone), "recipient": _name(client)}
            )
            for table in PERSONAL_TABLES:
                conn.execute(table.delete().where(table.c.client_id == client_id))
            conn.execute(
                commissions.update()
                .where(commissions.c.client_id == client_id)
                .values(client_id=None)
            )
            conn.execute(clients.delete().where(clients.c.id == client_id))
        shutil.rmtree(self.root / "clients" / client_id, ignore_errors=True)
        self._purge_exports(client_id, client.email)
        self.log.purge(lambda line: f"client={client_id}" in line)
        self.log.write("a client was deleted on request")

    def _purge_exports(self, client_id: str, email: str) -> None:
        for path in sorted((self.root / "exports").glob("clients-*.csv")):
            rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
            kept = [row for row in rows if row[:1] != [client_id] and email not in row]
            if len(kept) < len(rows):
                text = io.StringIO()
                csv.writer(text).writerows(kept)
                replace_file(path, text.getvalue())


def _name(client: sa.Row[Any]) -> str:
    return f"{client.given_name} {client.family_name}"


def quote_pdf(client: sa.Row[Any], garment: str, price_cents: int) -> bytes:
    """A one-page quote as an uncompressed PDF, addressed to the client."""
    lines = [
        f"Quote for {_name(client)}",
        client.street,
        f"{client.city}, {client.state} {client.postcode}",
        f"{garment}: ${price_cents / 100:,.2f}",
    ]
    text = "BT /F1 11 Tf 72 720 Td 14 TL " + " ".join(f"({_pdf_escape(t)}) '" for t in lines)
    stream = text.encode("utf-8") + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
