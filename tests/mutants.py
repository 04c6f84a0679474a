"""Deliberately broken variants of the jewelry ERP, one broken promise each.

Each subclasses the reference ``ErpService`` and overrides exactly one step,
so a test that catches it proves the check looks at that step.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import hmac
import json
import re
import ssl
import urllib.request
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from jewelry_erp import ErpService
from jewelry_erp.attachments import AttachmentStore
from jewelry_erp.models import (
    Address,
    Customer,
    Invoice,
    Order,
    OrderLine,
    OutboxMessage,
    RepairTicket,
    SiteConnection,
    Suppression,
)
from jewelry_erp.service import (
    MINIMUM_AGE,
    POLICY_NOTICE_SUBJECT,
    POSTCARD_PRINTER,
    UnderMinimumAge,
)
from privacy_adapter import JewelryAdapter
from pytest_stexcel_privacy import FileStore, Store


class SoftDeleteOnly(ErpService):
    """Hides the customer (opts them out) instead of removing their rows."""

    def _delete_personal_rows(self, session: Session, customer: Customer) -> None:
        customer.marketing_opt_in = False


class AuditLogKeepsPayload(ErpService):
    def _purge_audit_log(self, session: Session, customer: Customer) -> None:
        pass


class LogFileKeepsEmail(ErpService):
    def _purge_log_file(self, customer: Customer) -> None:
        pass


class HashedEmailKeptForDedup(ErpService):
    """Remembers a hash of every deleted address "so re-sign-ups can be spotted"."""

    def _delete_personal_rows(self, session: Session, customer: Customer) -> None:
        session.execute(sa.text("CREATE TABLE IF NOT EXISTS dedup (email_sha256 TEXT)"))
        digest = hashlib.sha256(customer.email.encode()).hexdigest()
        session.execute(sa.text("INSERT INTO dedup VALUES (:d)"), {"d": digest})
        super()._delete_personal_rows(session, customer)


class CsvExportNotPurged(ErpService):
    def _purge_exports(self, customer: Customer) -> None:
        pass


class ProcessorNeverTold(ErpService):
    def _notify_processors(self, customer: Customer) -> None:
        pass


class DeletesEveryonesOrders(ErpService):
    def _anonymise_orders(self, session: Session, customer: Customer) -> None:
        for model in (OrderLine, Invoice, Order):
            session.execute(sa.delete(model))


class RetentionCoversMoreThanDeclared(ErpService):
    """Invoices keep "Name <e-mail>" though the retention names only the name."""

    def _invoice(self, order: Order, name: str, address: Address) -> Invoice:
        invoice = super()._invoice(order, name, address)
        invoice.billing_name = f"{name} <{order.billing_email}>"
        return invoice


class NameIndexDropsApostrophes(ErpService):
    """Keeps a surname search index and deletes from it with hand-escaped SQL
    that strips apostrophes, so O'Brien's row is never matched."""

    def register_customer(self, first_name: str, last_name: str, *args: Any, **kw: Any) -> int:
        customer_id = super().register_customer(first_name, last_name, *args, **kw)
        with self.engine.begin() as connection:
            connection.execute(
                sa.text("CREATE TABLE IF NOT EXISTS name_index (customer_id INT, last_name TEXT)")
            )
            connection.execute(
                sa.text("INSERT INTO name_index VALUES (:id, :name)"),
                {"id": customer_id, "name": last_name},
            )
        return customer_id

    def _delete_personal_rows(self, session: Session, customer: Customer) -> None:
        escaped = customer.last_name.replace("'", "")
        session.execute(sa.text(f"DELETE FROM name_index WHERE last_name = '{escaped}'"))
        super()._delete_personal_rows(session, customer)


class PlusTagDroppedForProvider(ErpService):
    """Tells the mailing provider to forget the address without its +tag: the
    provider's member for "ann+news@" is a different one and stays."""

    def _notify_processors(self, customer: Customer) -> None:
        local, _, domain = customer.email.partition("@")
        self.mailing.forget(f"{local.split('+')[0]}@{domain}")


class SentMailKeepsRecipient(ErpService):
    """Files every service message in a sent-mail ledger "as proof of notice", with the
    recipient's name and postal address; the deletion request never learned of the ledger.
    Only an account that was sent service mail has a row there."""

    def send_transactional(self, customer_id: int, subject: str) -> None:
        super().send_transactional(customer_id, subject)
        with Session(self.engine) as session, session.begin():
            customer = self._customer(session, customer_id)
            address = self._mailing_address(session, customer_id)
            session.execute(
                sa.text(
                    "CREATE TABLE IF NOT EXISTS sent_mail (to_address TEXT, "
                    "recipient_name TEXT, recipient_street TEXT, subject TEXT)"
                )
            )
            session.execute(
                sa.text("INSERT INTO sent_mail VALUES (:to, :name, :street, :subject)"),
                {
                    "to": customer.email,
                    "name": customer.full_name,
                    "street": address.street,
                    "subject": subject,
                },
            )


class ReRegistrationRestoresTickets(ErpService):
    """Keeps a deleted customer's repair tickets "in case they come back": sealed under a
    keyed hash of their e-mail (the notes encrypted with a key derived from the address,
    so no scan sees them), and a sign-up with that address re-attaches them, notes and all,
    to the new account."""

    pepper = b"jewelry-erp-returning-customers"
    table = "CREATE TABLE IF NOT EXISTS sealed_tickets (owner_key TEXT, item TEXT, sealed TEXT)"

    def _sealing(self, email: str) -> tuple[str, bytes]:
        digest = hmac.new(self.pepper, email.strip().lower().encode(), hashlib.sha256).digest()
        return digest[:16].hex(), digest[16:]

    def _delete_personal_rows(self, session: Session, customer: Customer) -> None:
        key, pad = self._sealing(customer.email)
        session.execute(sa.text(self.table))
        for ticket in customer.repair_tickets:
            session.execute(
                sa.text("INSERT INTO sealed_tickets VALUES (:key, :item, :sealed)"),
                {"key": key, "item": ticket.item, "sealed": _xor(ticket.notes.encode(), pad)},
            )
        super()._delete_personal_rows(session, customer)

    def register_customer(self, **fields: Any) -> int:  # type: ignore[override]
        customer_id = super().register_customer(**fields)
        key, pad = self._sealing(str(fields["email"]))
        with Session(self.engine) as session, session.begin():
            session.execute(sa.text(self.table))
            sealed = session.execute(
                sa.text("SELECT item, sealed FROM sealed_tickets WHERE owner_key = :key"),
                {"key": key},
            ).all()
            for item, notes in sealed:
                session.add(
                    RepairTicket(
                        customer_id=customer_id,
                        item=item,
                        status="open",
                        notes=bytes.fromhex(_xor(bytes.fromhex(notes), pad)).decode(),
                    )
                )
            session.execute(
                sa.text("DELETE FROM sealed_tickets WHERE owner_key = :key"), {"key": key}
            )
        return customer_id


def _xor(data: bytes, pad: bytes) -> str:
    return bytes(b ^ pad[i % len(pad)] for i, b in enumerate(data)).hex()


# --- a bug the fixed full-history scenario cannot reach: the property search must find it ---


class LogPurgeOnlyForBuyers(ErpService):
    """Skips the log purge for customers who never ordered, on the belief that
    only orders are logged; but sign-ups are logged with the e-mail address."""

    def _purge_log_file(self, customer: Customer) -> None:
        if customer.orders:
            super()._purge_log_file(customer)


# --- the age gate (clause children) ---------------------------------------------------


class BirthdayOffByOne(ErpService):
    """Lets a child in only the day after their 13th birthday."""

    def _check_age(self, birth_date: date | None) -> None:
        today = self.today()
        if (
            birth_date is None
            or (
                today.year
                - birth_date.year
                - ((today.month, today.day) <= (birth_date.month, birth_date.day))
            )
            < MINIMUM_AGE
        ):
            raise UnderMinimumAge("too young")


class AgeInDaysOver365(ErpService):
    """Counts age as days // 365, which runs ahead by the leap days lived."""

    def _check_age(self, birth_date: date | None) -> None:
        if birth_date is None or (self.today() - birth_date).days // 365 < MINIMUM_AGE:
            raise UnderMinimumAge("too young")


class YearOnlyComparison(ErpService):
    """Compares birth years only: anyone turning 13 this year gets in on 1 January."""

    def _check_age(self, birth_date: date | None) -> None:
        if birth_date is None or self.today().year - birth_date.year < MINIMUM_AGE:
            raise UnderMinimumAge("too young")


class RefusesButLogsEmail(ErpService):
    """Refuses correctly, then writes the child's address to the application log."""

    def register_customer(
        self, first_name: str, last_name: str, email: str, *a: Any, **k: Any
    ) -> int:
        try:
            return super().register_customer(first_name, last_name, email, *a, **k)
        except UnderMinimumAge:
            self.log.warning("refused sign-up from %s: under %d", email, MINIMUM_AGE)
            raise


class RefusesButSendsWelcome(ErpService):
    """Subscribes the address to the mailing list (the welcome mail) before the age check."""

    def register_customer(
        self, first_name: str, last_name: str, email: str, *a: Any, **k: Any
    ) -> int:
        self.mailing.subscribe(email, first_name)
        return super().register_customer(first_name, last_name, email, *a, **k)


class UtcDateInsteadOfLocal(ErpService):
    """Judges ages by the UTC date: in California evenings, tomorrow's children get in."""

    def today(self) -> date:
        return datetime.now(UTC).date()


class CorrectionKeepsTheAccount(ErpService):
    """Stores a corrected under-13 birth date and carries on as if nothing happened."""

    def correct_birth_date(self, customer_id: int, birth_date: date | None) -> None:
        with Session(self.engine) as session, session.begin():
            self._customer(session, customer_id).birth_date = birth_date


class RefusesButSendsWelcomeMail(ErpService):
    """E-mails a welcome to the address before the age check refuses; stores nothing."""

    def register_customer(
        self, first_name: str, last_name: str, email: str, *a: Any, **k: Any
    ) -> int:
        body = f"Dear {first_name},\n\nWelcome to our jewelry store.\n"
        subject = "Welcome to our jewelry store"
        welcome = self.relay.compose(0, email, subject, body, "transactional")
        self.relay.send([welcome])
        return super().register_customer(first_name, last_name, email, *a, **k)


# --- marketing opt-outs (clause email-opt-out) ------------------------------------------


class IgnoresOptOutForFlashSales(ErpService):
    """Flash sales "are time-critical", so they go to everyone."""

    def _campaign_audience(self, kind: str) -> sa.Select[Any]:
        if kind == "flash-sale":
            return sa.select(Customer).order_by(Customer.id)
        return super()._campaign_audience(kind)


class UnsignedUnsubscribeLink(ErpService):
    """Trusts the customer id in the link without checking its signature."""

    def unsubscribe_link(self, link: str) -> None:
        customer = parse_qs(urlsplit(link).query).get("c", ["0"])[0]
        self.set_marketing_opt_in(int(customer), False)


class SequentialShortIdLinks(ErpService):
    """Short unsubscribe links, https://shop.example/u/<customer id>, with no signature:
    changing one digit unsubscribes somebody else."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.relay.unsubscribe_url = lambda customer_id: f"https://shop.example/u/{customer_id}"  # type: ignore[method-assign]

    def unsubscribe_link(self, link: str) -> None:
        self.set_marketing_opt_in(int(urlsplit(link).path.rsplit("/", 1)[1]), False)


class OptOutLostOnProfileUpdate(ErpService):
    """Saves the whole profile form, whose consent box defaults to ticked."""

    def update_profile(self, customer_id: int, first_name: str, last_name: str, email: str) -> None:
        super().update_profile(customer_id, first_name, last_name, email)
        with Session(self.engine) as session, session.begin():
            self._customer(session, customer_id).marketing_opt_in = True


class CaseSensitiveImport(ErpService):
    """Matches imported rows by the exact e-mail, so ANN@EXAMPLE.COM is a new, subscribed
    customer."""

    def import_customer(self, **fields: Any) -> int:
        with Session(self.engine) as session, session.begin():
            existing = session.scalar(sa.select(Customer).where(Customer.email == fields["email"]))
            if existing is not None:
                return existing.id
            customer = Customer(
                **{k: v for k, v in fields.items() if k in Customer.__table__.columns}
            )
            session.add(customer)
            session.flush()
            return customer.id


class NoListUnsubscribeHeader(ErpService):
    """Puts the unsubscribe link in the body only."""

    def deliver_outbox(self) -> int:
        compose = self.relay.compose

        def without_header(*args: Any) -> Any:
            message = compose(*args)
            del message["List-Unsubscribe"]
            del message["List-Unsubscribe-Post"]
            return message

        self.relay.compose = without_header  # type: ignore[method-assign]
        return super().deliver_outbox()


class BlocksOrderConfirmations(ErpService):
    """Treats an opt-out as "never e-mail me", so service mail stops too."""

    def send_transactional(self, customer_id: int, subject: str) -> None:
        with Session(self.engine) as session:
            if not self._customer(session, customer_id).marketing_opt_in:
                return
        super().send_transactional(customer_id, subject)


class WhitespaceImportResubscribes(CaseSensitiveImport):
    """Lower-cases an imported address but does not trim it, so " ann@example.com " is a
    new, subscribed customer."""

    def import_customer(self, **fields: Any) -> int:
        return super().import_customer(**(fields | {"email": str(fields["email"]).lower()}))


# --- where data lives (clause us-storage) -----------------------------------------------


class BucketInEuWest1(ErpService):
    """Creates its attachment bucket in Ireland; the adapter still says us-east-1."""

    def _attachment_store(self, endpoint_url: str | None, bucket: str) -> AttachmentStore:
        return AttachmentStore(endpoint_url, bucket, region="eu-west-1")


class ReplicatesToFrankfurt(ErpService):
    """Replicates attachments to a disaster-recovery bucket in Frankfurt."""

    def _attachment_store(self, endpoint_url: str | None, bucket: str) -> AttachmentStore:
        store = AttachmentStore(endpoint_url, bucket)
        replica = AttachmentStore(endpoint_url, f"{bucket}-dr", region="eu-central-1")
        replica.create_bucket()
        self._replica = replica
        return store

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.attachments is not None:
            client, bucket = self.attachments.client, self.attachments.bucket
            for name in (bucket, self._replica.bucket):
                client.put_bucket_versioning(
                    Bucket=name, VersioningConfiguration={"Status": "Enabled"}
                )
            client.put_bucket_replication(
                Bucket=bucket,
                ReplicationConfiguration={
                    "Role": "arn:aws:iam::123456789012:role/replication",
                    "Rules": [
                        {
                            "ID": "dr-frankfurt",
                            "Status": "Enabled",
                            "Prefix": "",
                            "Destination": {"Bucket": f"arn:aws:s3:::{self._replica.bucket}"},
                        }
                    ],
                },
            )


class AnalyticsToEu(ErpService):
    """Reports each sign-up to an analytics endpoint in Ireland, e-mail in the query string."""

    # One TLS context for every report, as a client library keeps one: a new context per
    # request reads the machine's whole CA bundle each time (17 ms or more apiece).
    _tls = ssl.create_default_context()

    def register_customer(
        self, first_name: str, last_name: str, email: str, *a: Any, **k: Any
    ) -> int:
        customer_id = super().register_customer(first_name, last_name, email, *a, **k)
        url = f"https://analytics.eu-west-1.amazonaws.com/collect?event=signup&email={quote(email)}"
        with contextlib.suppress(OSError):  # fire and forget
            urllib.request.urlopen(url, timeout=2, context=self._tls)
        return customer_id


class BackupToNonUs(ErpService):
    """Copies every customer export to a backup bucket in Frankfurt."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.attachments is not None:
            endpoint = self.attachments.client.meta.endpoint_url
            self.backup = AttachmentStore(
                endpoint, f"{self.attachments.bucket}-backup", region="eu-central-1"
            )
            self.backup.create_bucket()

    def export_customers_csv(self) -> Path:
        path = super().export_customers_csv()
        if self.attachments is not None:
            self.backup.put(f"exports/{path.name}", path.read_bytes(), {})
        return path


class AttachmentsNotPurged(ErpService):
    """Forgets the design briefs in the bucket when deleting a customer."""

    def _purge_attachments(self, customer: Customer) -> None:
        pass


class StoreWithoutRegion(JewelryAdapter):
    """Declares its file store with neither a region nor an endpoint."""

    def stores(self) -> list[Store]:
        return [
            replace(s, region=None) if isinstance(s, FileStore) else s for s in super().stores()
        ]


# --- card data (clause card-data) --------------------------------------------------------


class CardNumberInPaymentLog(ErpService):
    """Logs the full card number "for payment disputes"."""

    def place_order(self, customer_id: int, card_number: str, items: list[Any]) -> int:
        order_id = super().place_order(customer_id, card_number, items)
        self.log.info("payment for order %d with card %s", order_id, card_number)
        return order_id


class NoAgeGateAndCardInPaymentLog(CardNumberInPaymentLog):
    """Two bugs at once: signs up anyone, whatever their age, and logs the card number."""

    def _check_age(self, birth_date: date | None) -> None:
        pass


# mutant -> (the clause that must catch it, text its evidence must contain)
class CompactTaxIdKept(ErpService):
    """Indexes tax IDs without their separators for look-ups ("DE48..." however typed),
    and forgets the index when a customer is deleted."""

    def register_customer(self, *args: Any, tax_id: str | None = None, **kw: Any) -> int:
        customer_id = super().register_customer(*args, tax_id=tax_id, **kw)
        with self.engine.begin() as connection:
            connection.execute(
                sa.text("CREATE TABLE IF NOT EXISTS tax_index (customer_id INT, tax_key TEXT)")
            )
            connection.execute(
                sa.text("INSERT INTO tax_index VALUES (:id, :key)"),
                {"id": customer_id, "key": re.sub(r"[^0-9A-Za-z]", "", tax_id or "")},
            )
        return customer_id


class SessionKeepsName(ErpService):
    """Signs the customer in with a Django-style signed session (zlib-compressed JSON in
    URL-safe base64, then a timestamp and a signature) holding the greeting's name, and
    never ends the session when the customer is deleted."""

    def register_customer(self, first_name: str, last_name: str, *args: Any, **kw: Any) -> int:
        customer_id = super().register_customer(first_name, last_name, *args, **kw)
        session = {"_auth_user_id": str(customer_id), "greeting": f"{first_name} {last_name}"}
        payload = zlib.compress(json.dumps(session, separators=(",", ":")).encode())
        signed = "." + base64.urlsafe_b64encode(payload).decode().rstrip("=") + ":1tW3xk"
        signature = hmac.new(b"secret", signed.encode(), hashlib.sha256).digest()
        signed += ":" + base64.urlsafe_b64encode(signature).decode().rstrip("=")
        with self.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE TABLE IF NOT EXISTS django_session "
                    "(session_key TEXT PRIMARY KEY, session_data TEXT)"
                )
            )
            connection.execute(
                sa.text("INSERT INTO django_session VALUES (:key, :data)"),
                {"key": f"s{customer_id:08d}", "data": signed},
            )
        return customer_id


# --- Sharing Information with Third Parties / Disconnecting a third-party site ---------------


class AnalyticsReceivesEmail(ErpService):
    """Sends the analytics partner each sign-up's e-mail "to count unique visitors"."""

    def register_customer(
        self, first_name: str, last_name: str, email: str, *a: Any, **k: Any
    ) -> int:
        customer_id = super().register_customer(first_name, last_name, email, *a, **k)
        if self.analytics is not None:
            self.analytics._send(
                "POST", "/events/visitor", {"visitor": customer_id, "email": email}
            )
        return customer_id


class AnalyticsReceivesEmailCompressed(ErpService):
    """Streams the analytics partner each sign-up's e-mail gzipped, in chunks: what a client
    sends for a compressed generator body."""

    def register_customer(
        self, first_name: str, last_name: str, email: str, *a: Any, **k: Any
    ) -> int:
        customer_id = super().register_customer(first_name, last_name, email, *a, **k)
        if self.analytics is not None:
            packed = gzip.compress(json.dumps({"visitor": customer_id, "email": email}).encode())
            request = urllib.request.Request(
                self.analytics.base_url + "/events/visitor",
                data=iter([packed[:10], packed[10:]]),  # no length: sent chunked
                method="POST",
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            )
            with urllib.request.urlopen(request, timeout=5) as answer:
                answer.read()
        return customer_id


class CourierReceivesCardNumber(ErpService):
    """Hands the courier the card number with the parcel, "for cash-on-delivery checks"."""

    def place_order(self, customer_id: int, card_number: str, items: list[Any]) -> int:
        order_id = super().place_order(customer_id, card_number, items)
        if self.couriers is not None:
            self.couriers._send(
                "POST", "/shipments/payment", {"order": order_id, "card": card_number}
            )
        return order_id


class CustomerListToBroker(ErpService):
    """Posts every customer export to a data broker the adapter does not declare."""

    def export_customers_csv(self) -> Path:
        path = super().export_customers_csv()
        broker = self.mailing.base_url.rsplit("/", 1)[0] + "/data-broker/lists"
        request = urllib.request.Request(broker, data=path.read_bytes(), method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
        return path


class CustomerListToCouriers(ErpService):
    """Sends the courier the whole customer export "to plan routes": a declared partner, but
    not declared for bulk work."""

    def export_customers_csv(self) -> Path:
        path = super().export_customers_csv()
        if self.couriers is not None:
            self.couriers._send("POST", "/routes", {"customers": path.read_text()})
        return path


class SiteStillFedAfterDisconnect(ErpService):
    """Disconnecting revokes and blanks the token but keeps the link: the profile is still
    pushed to the site on every change."""

    def _forget_connection(self, session: Session, connection: SiteConnection) -> None:
        connection.access_token = "revoked"


class SiteTokenKeptAfterDisconnect(ErpService):
    """Disconnecting marks the link inactive and keeps the site's access token."""

    def _forget_connection(self, session: Session, connection: SiteConnection) -> None:
        connection.connected = False


EXPECTED: dict[type[Any], tuple[str, str]] = {
    SoftDeleteOnly: ("deletion", "erp-db customers.email"),
    AuditLogKeepsPayload: ("deletion", "erp-db audit_log.payload"),
    LogFileKeepsEmail: ("deletion", "erp-files logs/app.log"),
    HashedEmailKeptForDedup: ("deletion", "dedup.email_sha256"),
    CsvExportNotPurged: ("deletion", "erp-files exports/customers-"),
    ProcessorNeverTold: ("deletion-processors", "not told to delete: mailing-provider"),
    DeletesEveryonesOrders: ("deletion", "delete() also removed other people's data"),
    RetentionCoversMoreThanDeclared: ("deletion-exceptions", "invoices.billing_name"),
    NameIndexDropsApostrophes: ("deletion", "name_index.last_name"),
    PlusTagDroppedForProvider: ("deletion-processors", "not told to delete: mailing-provider"),
    SentMailKeepsRecipient: ("deletion", "erp-db sent_mail.recipient_name"),
    ReRegistrationRestoresTickets: (
        "deletion",
        "erp-db repair_tickets.notes",
    ),
    LogPurgeOnlyForBuyers: ("deletion", "erp-files logs/app.log"),
    BirthdayOffByOne: ("children", "born 2013-06-15, signing up 2026-06-15 00:00:00 PDT"),
    AgeInDaysOver365: ("children", "born 2013-06-15, signing up 2026-06-14 23:59:59 PDT"),
    YearOnlyComparison: ("children", "born 2013-06-15, signing up 2026-06-14 23:59:59 PDT"),
    RefusesButLogsEmail: ("children", "erp-files logs/app.log"),
    RefusesButSendsWelcome: (
        "children",
        "sent to a provider: POST /mailing/lists/customers/members",
    ),
    UtcDateInsteadOfLocal: ("children", "born 2013-06-15, signing up 2026-06-14 23:59:59 PDT"),
    CorrectionKeepsTheAccount: ("children", "underage_handling = 'delete'"),
    RefusesButSendsWelcomeMail: ("children", "subject 'Welcome to our jewelry store'"),
    IgnoresOptOutForFlashSales: ("email-opt-out", "subject '48-hour flash sale'"),
    # caught by the forged link itself now (before: a later campaign "did not reach p3")
    UnsignedUnsubscribeLink: ("email-opt-out", "a forged unsubscribe link unsubscribed p3"),
    SequentialShortIdLinks: ("email-opt-out", "a forged unsubscribe link unsubscribed p3"),
    OptOutLostOnProfileUpdate: (
        "email-opt-out",
        "register(p0); opt_out(p0); update_profile(p0, email-case); send_marketing()",
    ),
    CaseSensitiveImport: (
        "email-opt-out",
        "register(p0); opt_out(p0); reimport(p0, upper-case e-mail); send_marketing()",
    ),
    NoListUnsubscribeHeader: ("email-opt-out", "no List-Unsubscribe header"),
    BlocksOrderConfirmations: (
        "email-opt-out",
        "(in the fixed sequence: register(p0); opt_out(p0); send_transactional(p0))",
    ),
    WhitespaceImportResubscribes: (
        "email-opt-out",
        "register(p0); opt_out(p0); reimport(p0, e-mail padded with spaces); send_marketing()",
    ),
    AttachmentsNotPurged: ("deletion", "erp-attachments designs/"),
    BucketInEuWest1: (
        "us-storage",
        "is in eu-west-1 (the server says), not the declared us-east-1",
    ),
    ReplicatesToFrankfurt: ("us-storage", "-dr' in eu-central-1 (rule 'dr-frankfurt')"),
    AnalyticsToEu: ("us-storage", "analytics.eu-west-1.amazonaws.com"),
    BackupToNonUs: ("us-storage", "(region eu-central-1): eu-central-1 (not us"),
    StoreWithoutRegion: ("us-storage", "store erp-files: no region (unknown"),
    CardNumberInPaymentLog: ("card-data", "erp-files logs/app.log"),
    CompactTaxIdKept: ("deletion", "tax_id as compact"),
    SessionKeepsName: ("deletion", ", in signed session]: "),
    AnalyticsReceivesEmail: (
        "third-party-sharing",
        "analytics (purpose statistical-analysis) received email",
    ),
    AnalyticsReceivesEmailCompressed: (
        "third-party-sharing",
        "analytics (purpose statistical-analysis) received email",
    ),
    CourierReceivesCardNumber: (
        "third-party-sharing",
        "couriers (purpose deliveries) received card_number",
    ),
    CustomerListToBroker: (
        "third-party-sharing",
        "data sent to a recipient no declared processor covers: sent to a provider: POST "
        "/data-broker/lists",
    ),
    CustomerListToCouriers: ("third-party-sharing", "which is not declared for bulk work"),
    SiteStillFedAfterDisconnect: (
        "account-disconnect",
        "style-board was disconnected, then update_profile:name PUT /style-board/me/profile",
    ),
    SiteTokenKeptAfterDisconnect: (
        "account-disconnect",
        "erp-db site_connections.access_token",
    ),
}

# Mutants the fixed full-history scenario cannot catch: proof the property search works.
FOUND_BY_SEARCH = {LogPurgeOnlyForBuyers}


# --- Broken only between features: caught by the lifecycle, missed by every single check ---


class OptOutLostOnReregistration(ErpService):
    """Deletes the suppression with everything else, so a re-sign-up is mailed marketing."""

    def _keep_opt_out(self, session: Session, customer: Customer) -> None:
        pass


class SignupEmailMemory(ErpService):
    """Remembers each account's sign-up e-mail, as a legacy CRM key would."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signup_email: dict[int, str] = {}

    def register_customer(self, *args: Any, **kwargs: Any) -> int:
        customer_id = super().register_customer(*args, **kwargs)
        with Session(self.engine) as session:
            self.signup_email[customer_id] = self._customer(session, customer_id).email
        return customer_id


class CardLoggedAfterEmailChange(SignupEmailMemory):
    """Logs the full card "for fraud review" when the account's e-mail has changed."""

    def place_order(self, customer_id: int, card_number: str, items: list[Any]) -> int:
        with Session(self.engine) as session:
            changed = self._customer(session, customer_id).email != self.signup_email.get(
                customer_id
            )
        if changed:
            self.log.info("fraud review: customer %d paid with %s", customer_id, card_number)
        return super().place_order(customer_id, card_number, items)


class OrdersSkippedAfterEmailChange(SignupEmailMemory):
    """Finds the orders to anonymise by the sign-up e-mail, missing those placed later."""

    def _anonymise_orders(self, session: Session, customer: Customer) -> None:
        session.execute(
            sa.update(Order)
            .where(Order.billing_email == self.signup_email.get(customer.id))
            .values(billing_name="", billing_email=None, billing_street="")
        )
        session.execute(
            sa.update(Order).where(Order.customer_id == customer.id).values(customer_id=None)
        )


class ChildInNightlyExport(ErpService):
    """Queues every sign-up attempt for the nightly export before the age gate runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempts: list[tuple[str, str]] = []
        self.last_night = self.today()

    def register_customer(self, **fields: Any) -> int:  # type: ignore[override]
        name = f"{fields['first_name']} {fields['last_name']}"
        self.attempts.append((name, str(fields["email"]).strip().lower()))
        return super().register_customer(**fields)

    def deliver_outbox(self) -> int:
        if self.today() != self.last_night:  # the first call after midnight runs the job
            self.last_night = self.today()
            path = self.exports_dir / f"customers-{self.last_night}-nightly.csv"
            path.write_text("".join(f",{name},{email}\n" for name, email in self.attempts))
            self.attempts.clear()
        return super().deliver_outbox()


class WhitespaceSignupResubscribes(ErpService):
    """Looks a sign-up up in the suppression list by the address as typed (lower-cased, not
    trimmed): whoever opted out, was deleted and signs up again as " ann@example.com " is
    mailed marketing."""

    def register_customer(
        self, first_name: str, last_name: str, email: str, *a: Any, **k: Any
    ) -> int:
        customer_id = super().register_customer(first_name, last_name, email, *a, **k)
        typed = hashlib.sha256(email.lower().encode()).hexdigest()
        with Session(self.engine) as session, session.begin():
            suppressed = session.get(Suppression, typed) is not None
            self._customer(session, customer_id).marketing_opt_in = not suppressed
        return customer_id


# Mutant: (clause, evidence the report must show, steps the shortest sequence must keep).
INTERLEAVED: dict[type, tuple[str, str, tuple[str, ...]]] = {
    OptOutLostOnReregistration: (
        "email-opt-out",
        "who opted out",
        ("opt_out(p0)", "delete(p0)", "p0's e-mail", "send_marketing()"),
    ),
    CardLoggedAfterEmailChange: (
        "card-data",
        "erp-files logs/app.log",
        ("update_profile(p", "email)", "purchase(p"),
    ),
    OrdersSkippedAfterEmailChange: (
        "deletion",
        "erp-db orders.billing_",
        ("update_profile(p", "purchase(p", "delete(p"),
    ),
    ChildInNightlyExport: (
        "children",
        "erp-files exports/customers-",
        ("register(c0", "advance_time("),
    ),
    WhitespaceSignupResubscribes: (
        "email-opt-out",
        "who opted out",
        ("opt_out(p0)", "delete(p0)", "e-mail padded with spaces", "send_marketing()"),
    ),
}


# --- The stricter rules off: what the policy states, and no more ---------------------------


class PolicyOnlyAdapter(JewelryAdapter):
    """The example's adapter with every stricter-than-the-policy setting at its default."""

    opt_out_survives_deletion = False
    require_list_unsubscribe_headers = False
    require_service_mail_after_opt_out = False


# Mutant: the check that passes it once PolicyOnlyAdapter drives it (the rule it broke is
# stricter than the policy).
SILENT_BY_DEFAULT: dict[type, str] = {
    NoListUnsubscribeHeader: "test_opt_outs_hold_over_any_sequence",
    BlocksOrderConfirmations: "test_opt_outs_hold_over_any_sequence",
    OptOutLostOnReregistration: "test_lifecycle_keeps_every_promise",
    WhitespaceSignupResubscribes: "test_lifecycle_keeps_every_promise",
}

# What an interleaving mutant breaks besides its own clause, shown once the lifecycle goes
# on past its first failure: the nightly export keeps every sign-up attempt, adults' too,
# so a deleted adult's earlier e-mail stays in it.
ALSO_BROKEN: dict[type, set[str]] = {ChildInNightlyExport: {"deletion"}}
# Interleaving bugs a single check now reaches too: the deletion checks live a whole life
# before delete() (an e-mail change, then a purchase at the new address).
ALSO_CAUGHT_BY: dict[type, set[str]] = {
    OrdersSkippedAfterEmailChange: {"test_deletion_leaves_no_residue"},
}


# Two bugs in one module: mutant -> {clause: (evidence it must show, a step of its example)},
# each clause's finding shown by the lifecycle in the same run.
MANY_BUGS: dict[type, dict[str, tuple[str, str]]] = {
    NoAgeGateAndCardInPaymentLog: {
        "children": ("born ", "register(c0"),
        "card-data": ("erp-files logs/app.log", "purchase(p0)"),
    },
}


# Mutant: (clause, evidence) the lifecycle files for it, in its fixed sequence: the
# connect and disconnect steps and the providers' requests are judged over whole lives too.
CAUGHT_BY_THE_LIFECYCLE_TOO: dict[type, tuple[str, str]] = {
    SiteStillFedAfterDisconnect: (
        "account-disconnect",
        "during update_profile()\nsent to a provider: PUT /style-board/me/profile",
    ),
    AnalyticsReceivesEmail: (
        "third-party-sharing",
        "analytics (purpose statistical-analysis) received email",
    ),
}
# --- Changes to this Statement, California Privacy Rights ---------------------------------


class NoticeSkipsOptedOut(ErpService):
    """Sends the policy notice through the campaign audience, so the opted out miss it."""

    def _notice_audience(self) -> sa.Select[Any]:
        return sa.select(Customer).where(Customer.marketing_opt_in).order_by(Customer.id)


class NoticeToSignupAddress(SignupEmailMemory):
    """Sends the policy notice to the address each account signed up with."""

    def announce_policy_change(self) -> int:
        with Session(self.engine) as session, session.begin():
            for customer in session.scalars(self._notice_audience()).all():
                session.add(
                    OutboxMessage(
                        to_address=self.signup_email.get(customer.id, customer.email),
                        subject=POLICY_NOTICE_SUBJECT,
                        body=f"Dear {customer.first_name},\n\nOur privacy policy changed.\n",
                        kind="notice",
                        customer_id=customer.id,
                    )
                )
        return self.deliver_outbox()


class NoticeReachesDeleted(ErpService):
    """Announces to a contact list kept beside the customers, which deletion never cleans."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contacts: dict[int, str] = {}

    def register_customer(self, *args: Any, **kwargs: Any) -> int:
        customer_id = super().register_customer(*args, **kwargs)
        with Session(self.engine) as session:
            self.contacts[customer_id] = self._customer(session, customer_id).email
        return customer_id

    def update_profile(self, customer_id: int, first_name: str, last_name: str, email: str) -> None:
        super().update_profile(customer_id, first_name, last_name, email)
        self.contacts[customer_id] = email.strip().lower()

    def announce_policy_change(self) -> int:
        notices = (
            self.relay.compose(
                customer_id, to, POLICY_NOTICE_SUBJECT, "Our policy changed.", "notice"
            )
            for customer_id, to in self.contacts.items()
        )
        return self.relay.send(notices)


class DisclosureNotRecorded(ErpService):
    """Mails the printed catalogues but never records the disclosure to the printer."""

    def _record_disclosure(self, session: Session, party: str) -> None:
        pass


class DisclosureListNamesEveryPartner(ErpService):
    """Answers with every partner the shop has a contract with, whatever each received."""

    def third_parties_disclosed_for_direct_marketing(
        self, year: int, customer_id: int | None = None
    ) -> list[str]:
        super().third_parties_disclosed_for_direct_marketing(year, customer_id)
        return [POSTCARD_PRINTER, "mailing-provider"]


class DisclosureListOfTheCurrentYear(ErpService):
    """Answers with this year's disclosures, whichever year was asked for."""

    def third_parties_disclosed_for_direct_marketing(
        self, year: int, customer_id: int | None = None
    ) -> list[str]:
        return super().third_parties_disclosed_for_direct_marketing(self.today().year, customer_id)


class DisclosureAnsweredTwice(ErpService):
    """Forgets who asked, so a customer is answered as often as they ask."""

    def third_parties_disclosed_for_direct_marketing(
        self, year: int, customer_id: int | None = None
    ) -> list[str]:
        return super().third_parties_disclosed_for_direct_marketing(year)


NOTICE_AND_DISCLOSURE_MUTANTS: dict[type, tuple[str, str]] = {
    NoticeSkipsOptedOut: ("policy-notice", "p1 (opted out) in announce_policy_change() - nothing"),
    NoticeToSignupAddress: ("policy-notice", "p3 (old address) in announce_policy_change()"),
    NoticeReachesDeleted: ("policy-notice", "p4 (deleted) in announce_policy_change()"),
    DisclosureNotRecorded: (
        "shine-the-light",
        "postcard-printer received a person's data for direct marketing in ",
    ),
    DisclosureListNamesEveryPartner: (
        "shine-the-light",
        "names 'mailing-provider', which the suite saw receive no person's data",
    ),
    DisclosureListOfTheCurrentYear: (
        "shine-the-light",
        "postcard-printer received a person's data for direct marketing in ",
    ),
    DisclosureAnsweredTwice: (
        "shine-the-light",
        "p0's second request in ",
    ),
}
EXPECTED.update(NOTICE_AND_DISCLOSURE_MUTANTS)
# The lifecycle announces too: after an e-mail change, the notice must follow the address.
INTERLEAVED[NoticeToSignupAddress] = (
    "policy-notice",
    "(old address) in announce_policy_change()",
    ("update_profile(p", "email)", "announce_policy_change()"),
)
ALSO_CAUGHT_BY[NoticeToSignupAddress] = {"test_policy_change_notice_reaches_every_account"}


# Mutant -> the other clauses it rightly breaks too, beside its own.
ALSO_CAUGHT_UNDER: dict[type, set[str]] = {
    # a customer kept after delete() is still sent the policy-change notice
    SoftDeleteOnly: {"policy-notice"},
    # the EU analytics host is no declared processor either
    AnalyticsToEu: {"third-party-sharing"},
}
