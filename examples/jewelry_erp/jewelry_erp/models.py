"""The ERP's tables. Orders and invoices outlive a customer; everything else goes with them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Naive UTC, because SQLite stores datetimes without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """SQLite would otherwise hand a deleted row's id to the next insert, and the audit
    log, which refers to rows by id, would then describe a stranger."""

    __table_args__ = ({"sqlite_autoincrement": True},)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str]
    last_name: Mapped[str]
    email: Mapped[str] = mapped_column(unique=True)
    phone: Mapped[str]
    employer: Mapped[str]
    job_title: Mapped[str]
    birth_date: Mapped[date | None]
    tax_id: Mapped[str | None] = mapped_column(default=None)  # for invoices to businesses
    marketing_opt_in: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # View-only: deletion is carried out step by step in ErpService, never by ORM cascades.
    addresses: Mapped[list[Address]] = relationship(viewonly=True)
    orders: Mapped[list[Order]] = relationship(viewonly=True)
    repair_tickets: Mapped[list[RepairTicket]] = relationship(viewonly=True)
    design_requests: Mapped[list[DesignRequest]] = relationship(viewonly=True)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str]  # "mailing" or "shipping"
    street: Mapped[str]
    city: Mapped[str]
    state: Mapped[str]
    postal_code: Mapped[str]


class Order(Base):
    """Kept for the books after the customer is deleted, detached and anonymised.

    The billing columns are a snapshot, so a later change of address does not
    rewrite history. Only the card's last four digits are ever stored.
    """

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    total_cents: Mapped[int]
    status: Mapped[str]
    billing_name: Mapped[str]
    billing_email: Mapped[str | None]
    billing_street: Mapped[str]
    billing_city: Mapped[str]
    billing_state: Mapped[str]
    billing_postal_code: Mapped[str]
    card_last4: Mapped[str]


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    sku: Mapped[str]
    description: Mapped[str]
    quantity: Mapped[int]
    unit_cents: Mapped[int]


class Invoice(Base):
    """A tax record: kept unchanged after deletion (legal obligation), so it holds
    the billing name and address and nothing else about the person."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    number: Mapped[str]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    billing_name: Mapped[str]
    billing_street: Mapped[str]
    billing_city: Mapped[str]
    billing_state: Mapped[str]
    billing_postal_code: Mapped[str]
    total_cents: Mapped[int]


class RepairTicket(Base):
    __tablename__ = "repair_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    item: Mapped[str]
    notes: Mapped[str]
    status: Mapped[str]


class DesignRequest(Base):
    __tablename__ = "design_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    description: Mapped[str]
    budget_cents: Mapped[int]


class AuditEntry(Base):
    """Who changed what, kept for accountability; ``payload`` holds the changed values.

    Rows refer to what they changed by ``entity``/``entity_id`` only, so on
    deletion the rows stay and just their payload is redacted.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str]
    action: Mapped[str]
    entity: Mapped[str]
    entity_id: Mapped[int]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class Suppression(Base):
    """An opt-out that outlives the account: the e-mail's SHA-256, so that a deleted
    customer who signs up again is not mailed marketing they refused."""

    __tablename__ = "suppressions"

    email_sha256: Mapped[str] = mapped_column(primary_key=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """E-mail waiting for the mail relay."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str]
    subject: Mapped[str]
    body: Mapped[str]
    kind: Mapped[str]  # "marketing" or "transactional"
    customer_id: Mapped[int | None] = mapped_column(default=None)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class SiteConnection(Base):
    """A customer's account on a third-party site (a style board) linked to ours: the
    site's access token, used to keep their board's profile up to date. Disconnecting
    deletes the row, token and all."""

    __tablename__ = "site_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    site: Mapped[str]
    access_token: Mapped[str]
    connected: Mapped[bool] = mapped_column(default=True)


class MarketingDisclosure(Base):
    """A third party given customers' data for direct marketing, and when: what a
    California "Shine the Light" request is answered from. Names no customer."""

    __tablename__ = "marketing_disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    party: Mapped[str]
    day: Mapped[date]


class DisclosureRequest(Base):
    """Which customer asked for the disclosure list in which year: the law asks for one
    answer per customer per calendar year."""

    __tablename__ = "disclosure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int]
    year: Mapped[int]
