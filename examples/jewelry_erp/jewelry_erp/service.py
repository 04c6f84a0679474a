"""The ERP's business operations, including the verified "delete my data" request.

Deletion is a sequence of small protected steps so that each obligation is
visible on its own, and so that a deliberately broken variant can override
exactly one of them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import logging
import os
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, selectinload

from .attachments import AttachmentStore
from .mail import MailRelay
from .mailing import MailingClient
from .models import (
    Address,
    AuditEntry,
    Base,
    Customer,
    DesignRequest,
    DisclosureRequest,
    Invoice,
    MarketingDisclosure,
    Order,
    OrderLine,
    OutboxMessage,
    RepairTicket,
    SiteConnection,
    Suppression,
)
from .partners import AnalyticsClient, CourierClient, StyleBoardClient
from .postcards import PostcardClient

LineItem = tuple[str, str, int, int]  # sku, description, quantity, unit price in cents

EXPORT_HEADER = ("customer_id", "name", "email", "phone", "city")
EXPORT_NAME = re.compile(r"customers-(\d+)\.csv")
REDACTED: dict[str, Any] = {"redacted": True}

MINIMUM_AGE = 13  # the privacy policy signs up no child under thirteen
TIME_ZONE = "America/Los_Angeles"  # the shop's calendar: ages change at local midnight
POSTCARD_PRINTER = "postcard-printer"  # the marketing partner, as disclosure lists name it
POLICY_NOTICE_SUBJECT = "We have updated our privacy policy"

_logger_numbers = itertools.count(1)


class UnderMinimumAge(ValueError):
    """The person is under 13, or did not say when they were born."""


class DisclosureAlreadyAnswered(ValueError):
    """The customer already had this calendar year's "Shine the Light" answer."""


def age_on(born: date, day: date) -> int:
    """Completed years. Someone born on 29 February turns a year older on 1 March in
    other years: (3, 1) is the first day not before (2, 29)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """``secure_delete``: without it SQLite leaves deleted rows readable in the database
    file's free pages. ``synchronous = OFF``: this shop's database only ever holds a test
    run's data, so a commit need not wait for the disk to confirm it (a mutant's whole
    suite ran 5 to 13% faster); what the file holds is the same either way. A shop in
    production keeps the default."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.close()


def _engine(database: Path | str) -> sa.Engine:
    """A SQLite file, or a database URL (PostgreSQL: ``?options=-csearch_path=...``)."""
    if isinstance(database, Path):
        database.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(f"sqlite:///{database}")
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(database, pool_size=2)


class ErpService:
    def __init__(
        self,
        database: Path | str,
        files_root: Path,
        mailing_url: str,
        smtp: tuple[str, int] | None = None,
        secret: bytes = b"jewelry-erp-unsubscribe-key",
        attachments: tuple[str | None, str] | None = None,  # (S3 endpoint URL, bucket)
        partners: Mapping[str, str] | None = None,  # "analytics", "couriers", sites -> URL
        postcards_url: str | None = None,  # the postcard printer; None: no printed catalogues
    ) -> None:
        self.engine = _engine(database)
        Base.metadata.create_all(self.engine)

        self.files_root = files_root
        self.log_path = files_root / "logs" / "app.log"
        self.exports_dir = files_root / "exports"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.exports_dir.mkdir(parents=True, exist_ok=True)

        self.mailing = MailingClient(mailing_url)
        urls = dict(partners or {})
        self.analytics = AnalyticsClient(urls.pop("analytics")) if "analytics" in urls else None
        self.couriers = CourierClient(urls.pop("couriers")) if "couriers" in urls else None
        self.sites = {name: StyleBoardClient(url) for name, url in urls.items()}
        self.relay = MailRelay(smtp, secret)
        self.postcards = PostcardClient(postcards_url) if postcards_url else None
        self.attachments: AttachmentStore | None = None
        if attachments is not None:
            self.attachments = self._attachment_store(*attachments)
            self.attachments.create_bucket()

        # One logger per instance: _purge_log_file must be able to close exactly this
        # service's file, and several services (one per test) share the process.
        self.log = logging.getLogger(f"{__name__}.{next(_logger_numbers)}")
        self.log.propagate = False
        self.log.setLevel(logging.INFO)
        self._handler: logging.FileHandler | None = None
        self._open_log()

    def close(self) -> None:
        self._close_log()
        self.engine.dispose()

    def _attachment_store(self, endpoint_url: str | None, bucket: str) -> AttachmentStore:
        return AttachmentStore(endpoint_url, bucket)

    def today(self) -> date:
        """The shop's calendar date, whatever zone the server runs in."""
        return datetime.now(ZoneInfo(TIME_ZONE)).date()

    def _check_age(self, birth_date: date | None) -> None:
        """Before anything is written: a refused child must leave nothing behind."""
        if birth_date is None or age_on(birth_date, self.today()) < MINIMUM_AGE:
            raise UnderMinimumAge(f"customers must be at least {MINIMUM_AGE} years old")

    # --- customers and their history ---------------------------------------------------

    def register_customer(
        self,
        first_name: str,
        last_name: str,
        email: str,
        phone: str,
        employer: str,
        job_title: str,
        birth_date: date | None,
        street: str,
        city: str,
        state: str,
        postal_code: str,
        tax_id: str | None = None,
    ) -> int:
        """Sign a customer up. E-mail is lower-cased so that it identifies one account."""
        self._check_age(birth_date)
        email = email.strip().lower()
        with Session(self.engine) as session, session.begin():
            if session.scalar(sa.select(Customer.id).where(Customer.email == email)) is not None:
                raise ValueError("this e-mail address is already registered")
            suppressed = session.get(Suppression, email_digest(email)) is not None
            customer = Customer(
                marketing_opt_in=not suppressed,
                first_name=first_name,
                last_name=last_name,
                email=email,
                phone=phone,
                employer=employer,
                job_title=job_title,
                birth_date=birth_date,
                tax_id=tax_id,
            )
            session.add(customer)
            session.flush()
            session.add(
                Address(
                    customer_id=customer.id,
                    kind="mailing",
                    street=street,
                    city=city,
                    state=state,
                    postal_code=postal_code,
                )
            )
            self._audit(
                session,
                "register",
                "customer",
                customer.id,
                {
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": email,
                    "phone": phone,
                    "employer": employer,
                    "job_title": job_title,
                    "birth_date": birth_date.isoformat() if birth_date else None,
                    "street": street,
                    "city": city,
                    "state": state,
                    "postal_code": postal_code,
                },
            )
            self._queue(session, customer, "Welcome to our jewelry store", "transactional")
            customer_id = customer.id
        self.log.info("registered customer %d %s", customer_id, email)
        self.mailing.subscribe(email, first_name)
        if self.analytics is not None:
            self.analytics.signup(customer_id, job_title, state)
        self.deliver_outbox()
        return customer_id

    def place_order(self, customer_id: int, card_number: str, items: list[LineItem]) -> int:
        """Bill to the mailing address. Only the card's last four digits are kept: the full
        number belongs to the payment processor, never to the ERP."""
        if not items:
            raise ValueError("an order needs at least one line")
        card_last4 = "".join(c for c in card_number if c.isdigit())[-4:]
        total = sum(quantity * unit_cents for _, _, quantity, unit_cents in items)
        with Session(self.engine) as session, session.begin():
            customer = self._customer(session, customer_id)
            address = self._mailing_address(session, customer_id)
            order = Order(
                customer_id=customer_id,
                total_cents=total,
                status="paid",
                billing_name=customer.full_name,
                billing_email=customer.email,
                billing_street=address.street,
                billing_city=address.city,
                billing_state=address.state,
                billing_postal_code=address.postal_code,
                card_last4=card_last4,
            )
            session.add(order)
            session.flush()
            session.add_all(
                OrderLine(
                    order_id=order.id,
                    sku=sku,
                    description=description,
                    quantity=quantity,
                    unit_cents=unit_cents,
                )
                for sku, description, quantity, unit_cents in items
            )
            session.add(self._invoice(order, customer.full_name, address))
            self._audit(
                session,
                "order",
                "order",
                order.id,
                {
                    "billing_name": order.billing_name,
                    "billing_email": order.billing_email,
                    "billing_street": order.billing_street,
                    "card_last4": card_last4,
                    "total_cents": total,
                },
            )
            self._queue(session, customer, f"Order {order.id} confirmed", "transactional")
            order_id = order.id
            recipient = self._delivery_recipient(customer, address)
        self.log.info("customer %d placed order %d", customer_id, order_id)
        if self.couriers is not None:
            self.couriers.ship(order_id, recipient)
        self._push_to_sites(customer_id)
        self.deliver_outbox()
        return order_id

    def _delivery_recipient(self, customer: Customer, address: Address) -> dict[str, str]:
        """What the courier needs to deliver: a name and an address, nothing more."""
        return {
            "name": customer.full_name,
            "street": address.street,
            "city": address.city,
            "state": address.state,
            "postal_code": address.postal_code,
        }

    def _invoice(self, order: Order, name: str, address: Address) -> Invoice:
        """Invoices are kept after deletion, so they copy only what tax law asks for."""
        return Invoice(
            order_id=order.id,
            number=f"INV-{order.id:06d}",
            billing_name=name,
            billing_street=address.street,
            billing_city=address.city,
            billing_state=address.state,
            billing_postal_code=address.postal_code,
            total_cents=order.total_cents,
        )

    def open_repair_ticket(self, customer_id: int, item: str) -> int:
        with Session(self.engine) as session, session.begin():
            customer = self._customer(session, customer_id)
            ticket = RepairTicket(
                customer_id=customer_id,
                item=item,
                status="open",
                notes=f"Customer {customer.full_name} called from {customer.phone} "
                f"about a loose prong on the {item}.",
            )
            session.add(ticket)
            session.flush()
            self._audit(
                session, "open", "repair_ticket", ticket.id, {"item": item, "notes": ticket.notes}
            )
            ticket_id = ticket.id
        self.log.info("customer %d opened repair ticket %d", customer_id, ticket_id)
        return ticket_id

    def request_design(self, customer_id: int, description_hint: str) -> int:
        with Session(self.engine) as session, session.begin():
            customer = self._customer(session, customer_id)
            design = DesignRequest(
                customer_id=customer_id,
                description=f"Custom {description_hint} for {customer.first_name}; "
                f"contact {customer.email}",
                budget_cents=250_000,
            )
            session.add(design)
            session.flush()
            self._audit(
                session,
                "request",
                "design_request",
                design.id,
                {"description": design.description, "budget_cents": design.budget_cents},
            )
            design_id = design.id
            brief = f"Design brief {design_id} for {customer.full_name} <{customer.email}>"
            email = customer.email
        if self.attachments is not None:
            self.attachments.put(
                f"designs/{customer_id}/{design_id}.txt",
                f"{brief}\n{description_hint}\n".encode(),
                {"customer-email": email},
            )
        self.log.info("customer %d requested design %d", customer_id, design_id)
        return design_id

    def add_shipping_address(
        self, customer_id: int, street: str, city: str, state: str, postal_code: str
    ) -> int:
        with Session(self.engine) as session, session.begin():
            self._customer(session, customer_id)
            address = Address(
                customer_id=customer_id,
                kind="shipping",
                street=street,
                city=city,
                state=state,
                postal_code=postal_code,
            )
            session.add(address)
            session.flush()
            self._audit(
                session,
                "add",
                "address",
                address.id,
                {"street": street, "city": city, "state": state, "postal_code": postal_code},
            )
            address_id = address.id
        self.log.info("customer %d added shipping address %d", customer_id, address_id)
        return address_id

    # --- mail ----------------------------------------------------------------------------

    def correct_birth_date(self, customer_id: int, birth_date: date | None) -> None:
        """A corrected birth date under 13 means the account should never have existed:
        it is deleted like a verified deletion request."""
        try:
            self._check_age(birth_date)
        except UnderMinimumAge:
            self.log.info("customer %d is under %d: deleting the account", customer_id, MINIMUM_AGE)
            self.delete_customer(customer_id)
            return
        with Session(self.engine) as session, session.begin():
            self._customer(session, customer_id).birth_date = birth_date
            self._audit(session, "update", "customer", customer_id, {"birth_date": str(birth_date)})

    def set_marketing_opt_in(self, customer_id: int, opted_in: bool) -> None:
        """Consent changes are audited: they are what proves a campaign was allowed."""
        with Session(self.engine) as session, session.begin():
            self._customer(session, customer_id).marketing_opt_in = opted_in
            self._audit(session, "consent", "customer", customer_id, {"marketing": opted_in})
        self.log.info("customer %d set marketing opt-in to %s", customer_id, opted_in)

    def send_campaign(self, subject: str, kind: str = "newsletter") -> int:
        """Only customers who have not opted out; ``kind`` names the campaign type. A
        newsletter also goes out as a printed catalogue."""
        with Session(self.engine) as session, session.begin():
            recipients = session.scalars(self._campaign_audience(kind)).all()
            catalogues: list[tuple[str, str, str, str, str]] = []
            for customer in recipients:
                self._queue(session, customer, subject, "marketing")
                address = session.scalars(
                    sa.select(Address).where(
                        Address.customer_id == customer.id, Address.kind == "mailing"
                    )
                ).one_or_none()
                if kind == "newsletter" and address is not None:  # an import has no address
                    catalogues.append(
                        (
                            customer.full_name,
                            address.street,
                            address.city,
                            address.state,
                            address.postal_code,
                        )
                    )
        self.log.info("queued %s campaign %r for %d recipients", kind, subject, len(recipients))
        self.deliver_outbox()
        self._mail_catalogues(catalogues)
        return len(recipients)

    def _mail_catalogues(self, catalogues: list[tuple[str, str, str, str, str]]) -> None:
        """The postcard printer gets each recipient's name and address: a disclosure for
        direct marketing, recorded for the year's "Shine the Light" answer."""
        if self.postcards is None or not catalogues:
            return
        for catalogue in catalogues:
            self.postcards.mail_catalogue(*catalogue)
        with Session(self.engine) as session, session.begin():
            self._record_disclosure(session, POSTCARD_PRINTER)

    def _record_disclosure(self, session: Session, party: str) -> None:
        session.add(MarketingDisclosure(party=party, day=self.today()))

    def third_parties_disclosed_for_direct_marketing(
        self, year: int, customer_id: int | None = None
    ) -> list[str]:
        """California Civil Code 1798.83: the parties given customers' data for direct
        marketing in ``year``. A customer asking (``customer_id``) is answered once per
        calendar year."""
        with Session(self.engine) as session, session.begin():
            if customer_id is not None:
                self._customer(session, customer_id)
                asked_in = self.today().year
                answered = session.scalar(
                    sa.select(DisclosureRequest.id).where(
                        DisclosureRequest.customer_id == customer_id,
                        DisclosureRequest.year == asked_in,
                    )
                )
                if answered is not None:
                    raise DisclosureAlreadyAnswered(
                        f"customer {customer_id} was already answered in {asked_in}"
                    )
                session.add(DisclosureRequest(customer_id=customer_id, year=asked_in))
            parties = session.scalars(
                sa.select(MarketingDisclosure.party)
                .where(MarketingDisclosure.day.between(date(year, 1, 1), date(year, 12, 31)))
                .distinct()
                .order_by(MarketingDisclosure.party)
            ).all()
        return list(parties)

    def announce_policy_change(self) -> int:
        """A notice, not marketing: every account, opted out or not, at its address now."""
        with Session(self.engine) as session, session.begin():
            customers = session.scalars(self._notice_audience()).all()
            for customer in customers:
                self._queue(session, customer, POLICY_NOTICE_SUBJECT, "notice")
        self.log.info("queued the privacy policy notice for %d customers", len(customers))
        self.deliver_outbox()
        return len(customers)

    def _notice_audience(self) -> sa.Select[Any]:
        return sa.select(Customer).order_by(Customer.id)

    def _campaign_audience(self, kind: str) -> sa.Select[Any]:
        return sa.select(Customer).where(Customer.marketing_opt_in).order_by(Customer.id)

    def send_transactional(self, customer_id: int, subject: str) -> None:
        """Service mail goes to every customer: an opt-out covers marketing only."""
        with Session(self.engine) as session, session.begin():
            self._queue(session, self._customer(session, customer_id), subject, "transactional")
        self.deliver_outbox()

    def unsubscribe_link(self, link: str) -> None:
        """The web endpoint behind the link in every marketing e-mail."""
        self.set_marketing_opt_in(self.relay.customer_of(link), False)

    def update_profile(self, customer_id: int, first_name: str, last_name: str, email: str) -> None:
        """The profile page. Consent is not a profile field: it is never touched here."""
        email = email.strip().lower()
        with Session(self.engine) as session, session.begin():
            customer = self._customer(session, customer_id)
            taken = session.scalar(
                sa.select(Customer.id).where(Customer.email == email, Customer.id != customer_id)
            )
            if taken is not None:
                raise ValueError("this e-mail address belongs to another account")
            customer.first_name, customer.last_name, customer.email = first_name, last_name, email
            self._audit(session, "update", "customer", customer_id, {"email": email})
        self._push_to_sites(customer_id)

    # --- third-party sites a customer connects ------------------------------------------

    def connect_site(self, customer_id: int, site: str) -> None:
        """Link the customer's account on ``site``; their profile goes there while linked."""
        token = self._site(site).connect(customer_id)
        with Session(self.engine) as session, session.begin():
            self._customer(session, customer_id)
            session.add(SiteConnection(customer_id=customer_id, site=site, access_token=token))
            self._audit(session, "connect", "customer", customer_id, {"site": site})
        self._push_to_sites(customer_id)

    def disconnect_site(self, customer_id: int, site: str) -> None:
        """Unlink ``site``: it is told to revoke the token, and the token is forgotten."""
        with Session(self.engine) as session, session.begin():
            for connection in self._connections(session, customer_id, site):
                self._site(site).revoke(connection.access_token)
                self._forget_connection(session, connection)
            self._audit(session, "disconnect", "customer", customer_id, {"site": site})

    def _forget_connection(self, session: Session, connection: SiteConnection) -> None:
        session.delete(connection)

    def _connections(
        self, session: Session, customer_id: int, site: str | None = None
    ) -> list[SiteConnection]:
        query = sa.select(SiteConnection).where(
            SiteConnection.customer_id == customer_id, SiteConnection.connected
        )
        if site is not None:
            query = query.where(SiteConnection.site == site)
        return list(session.scalars(query))

    def _push_to_sites(self, customer_id: int) -> None:
        """Keep every linked site's copy of the profile up to date."""
        with Session(self.engine) as session:
            customer = self._customer(session, customer_id)
            profile = {"name": customer.full_name, "email": customer.email}
            links = [(c.site, c.access_token) for c in self._connections(session, customer_id)]
        for site, token in links:
            self._site(site).push_profile(token, profile)

    def _site(self, site: str) -> StyleBoardClient:
        try:
            return self.sites[site]
        except KeyError:
            raise LookupError(f"no third-party site {site!r} is configured") from None

    def import_customer(self, **fields: Any) -> int:
        """CRM sync: an address already known updates that customer (keeping their consent);
        a new one signs up like any customer."""
        email = str(fields["email"]).strip().lower()
        with Session(self.engine) as session, session.begin():
            existing = session.scalar(
                sa.select(Customer).where(sa.func.lower(Customer.email) == email)
            )
            if existing is not None:
                existing.first_name = fields["first_name"]
                existing.last_name = fields["last_name"]
                existing.phone = fields["phone"]
                return existing.id
        return self.register_customer(**fields)

    # --- exports -------------------------------------------------------------------------

    def export_customers_csv(self) -> Path:
        path = self.exports_dir / f"customers-{self._next_export_number()}.csv"
        with Session(self.engine) as session:
            rows = [
                (customer.id, customer.full_name, customer.email, customer.phone, city)
                for customer, city in session.execute(
                    sa.select(Customer, Address.city)
                    .join(Address, Address.customer_id == Customer.id)
                    .where(Address.kind == "mailing")
                    .order_by(Customer.id)
                )
            ]
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(EXPORT_HEADER)
            writer.writerows(rows)
        self.log.info("exported %d customers to %s", len(rows), path.name)
        return path

    def _next_export_number(self) -> int:
        numbers = (EXPORT_NAME.fullmatch(p.name) for p in self.exports_dir.iterdir())
        return 1 + max((int(m.group(1)) for m in numbers if m), default=0)

    # --- the verified deletion request ---------------------------------------------------

    def delete_customer(self, customer_id: int) -> None:
        """Carry out a verified "delete my data" request.

        The customer is loaded together with their orders, addresses, tickets
        and design requests before any step runs: once the orders are
        anonymised and the rest deleted, that snapshot is the only record of
        which audit rows concerned them. The files are purged only once the
        database commit has succeeded, so a rolled-back deletion does not leave
        the logs and exports out of step with the database.
        """
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            customer = self._customer(session, customer_id, with_history=True)
            self._notify_processors(customer)
            self._notify_partners(session, customer)
            self._keep_opt_out(session, customer)
            self._anonymise_orders(session, customer)
            self._delete_personal_rows(session, customer)
            self._purge_audit_log(session, customer)
            self._audit(session, "delete", "customer", customer_id, {})
        self._compact_database()
        self._purge_log_file(customer)
        self._purge_exports(customer)
        self._purge_attachments(customer)
        self.log.info("deleted customer %d", customer_id)

    def _compact_database(self) -> None:
        """SQLite: secure_delete zeroes what a DELETE frees, but a row moved earlier (one
        that grew, a page rebalanced) can leave a stale copy of it elsewhere in the file,
        which no DELETE ever frees. VACUUM rewrites the file with the live rows only."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM")

    def _keep_opt_out(self, session: Session, customer: Customer) -> None:
        """Deletion must not undo an opt-out: only the e-mail's digest is kept."""
        if not customer.marketing_opt_in:
            session.merge(Suppression(email_sha256=email_digest(customer.email)))

    def _notify_processors(self, customer: Customer) -> None:
        self.mailing.forget(customer.email)
        if self.postcards is not None:
            self.postcards.forget(customer.email)

    def _notify_partners(self, session: Session, customer: Customer) -> None:
        """Each partner is asked to erase what it holds; linked sites lose their token."""
        if self.analytics is not None:
            self.analytics.forget(customer.id, customer.job_title)
        if self.couriers is not None:
            for address in customer.addresses:
                self.couriers.forget(customer.full_name, address.street)
        for connection in self._connections(session, customer.id):
            self._site(connection.site).revoke(connection.access_token)

    def _anonymise_orders(self, session: Session, customer: Customer) -> None:
        """Orders stay for the books, detached from the person. Invoices are left alone:
        the legal obligation to keep them covers the billing name and street."""
        session.execute(
            sa.update(Order)
            .where(Order.customer_id == customer.id)
            .values(customer_id=None, billing_name="", billing_email=None, billing_street="")
        )

    def _delete_personal_rows(self, session: Session, customer: Customer) -> None:
        for model in (Address, RepairTicket, DesignRequest, SiteConnection):
            session.execute(sa.delete(model).where(model.customer_id == customer.id))
        session.execute(
            sa.delete(OutboxMessage).where(
                sa.or_(
                    OutboxMessage.customer_id == customer.id,  # sent before an e-mail change
                    sa.func.lower(OutboxMessage.to_address) == customer.email,
                )
            )
        )
        session.delete(customer)

    def _purge_audit_log(self, session: Session, customer: Customer) -> None:
        """The rows stay, as the accountability trail; only what they say about the person goes."""
        concerning: dict[str, list[int]] = {
            "customer": [customer.id],
            "address": [a.id for a in customer.addresses],
            "order": [o.id for o in customer.orders],
            "repair_ticket": [t.id for t in customer.repair_tickets],
            "design_request": [d.id for d in customer.design_requests],
        }
        session.execute(
            sa.update(AuditEntry)
            .where(
                sa.or_(
                    *(
                        sa.and_(AuditEntry.entity == entity, AuditEntry.entity_id.in_(ids))
                        for entity, ids in concerning.items()
                        if ids
                    )
                )
            )
            .values(payload=REDACTED)
        )

    def _purge_log_file(self, customer: Customer) -> None:
        """Drop the customer's lines. The trailing space in the marker keeps customer 1
        from matching customer 12's lines."""
        marker = f"customer {customer.id} "
        self._close_log()
        try:
            with self.log_path.open(encoding="utf-8") as source:
                kept = [
                    line
                    for line in source
                    if marker not in line and customer.email not in line.lower()
                ]
            _replace(self.log_path, "".join(kept))
        finally:
            self._open_log()

    def _purge_attachments(self, customer: Customer) -> None:
        """Design requests are the only thing that puts attachments in the bucket (under
        the customer's prefix), and they are deleted only with the customer: a customer
        who never asked for one has nothing there, and the bucket is not asked."""
        if self.attachments is not None and customer.design_requests:
            self.attachments.delete_prefix(f"designs/{customer.id}/")

    def _purge_exports(self, customer: Customer) -> None:
        for path in sorted(self.exports_dir.glob("customers-*.csv")):
            with path.open(newline="", encoding="utf-8") as source:
                rows = list(csv.reader(source))
            kept = [row for row in rows if not _row_concerns(row, customer)]
            if len(kept) < len(rows):
                text = io.StringIO()
                csv.writer(text).writerows(kept)
                _replace(path, text.getvalue())

    # --- helpers -------------------------------------------------------------------------

    def _customer(self, session: Session, customer_id: int, with_history: bool = False) -> Customer:
        options = (
            [
                selectinload(Customer.addresses),
                selectinload(Customer.orders),
                selectinload(Customer.repair_tickets),
                selectinload(Customer.design_requests),
            ]
            if with_history
            else []
        )
        customer = session.get(Customer, customer_id, options=options)
        if customer is None:
            raise LookupError(f"no customer {customer_id}")
        return customer

    def _mailing_address(self, session: Session, customer_id: int) -> Address:
        return session.scalars(
            sa.select(Address).where(Address.customer_id == customer_id, Address.kind == "mailing")
        ).one()

    def _audit(
        self, session: Session, action: str, entity: str, entity_id: int, payload: dict[str, Any]
    ) -> None:
        session.add(
            AuditEntry(
                actor="web", action=action, entity=entity, entity_id=entity_id, payload=payload
            )
        )

    def _queue(self, session: Session, customer: Customer, subject: str, kind: str) -> None:
        session.add(
            OutboxMessage(
                to_address=customer.email,
                subject=subject,
                body=f"Dear {customer.first_name},\n\n{subject}.\n\nYour jewelers\n",
                kind=kind,
                customer_id=customer.id,
            )
        )

    def deliver_outbox(self) -> int:
        """Hand every queued message to the mail relay; called after each commit."""
        with Session(self.engine) as session, session.begin():
            pending = session.scalars(
                sa.select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
                .order_by(OutboxMessage.id)
            ).all()
            messages = [
                self.relay.compose(m.customer_id or 0, m.to_address, m.subject, m.body, m.kind)
                for m in pending
            ]
            sent = self.relay.send(messages)
            if sent:
                now = datetime.now(UTC)
                for message in pending:
                    message.sent_at = now
        return sent

    def _open_log(self) -> None:
        handler = logging.FileHandler(self.log_path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.log.addHandler(handler)
        self._handler = handler

    def _close_log(self) -> None:
        if self._handler is not None:
            self.log.removeHandler(self._handler)
            self._handler.close()
            self._handler = None


def email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def _row_concerns(row: list[str], customer: Customer) -> bool:
    return row[:1] == [str(customer.id)] or any(customer.email == cell.lower() for cell in row)


def _replace(path: Path, text: str) -> None:
    """Write beside the file, then swap it in: a crash mid-purge must not lose the file."""
    temporary = path.with_name(path.name + ".purging")
    temporary.write_text(text, encoding="utf-8", newline="")
    os.replace(temporary, path)
