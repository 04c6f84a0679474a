"""The workshop's privacy adapter: the suite drives the workshop's real code paths."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from pytest_stexcel_privacy import (
    Card,
    FileStore,
    MailSink,
    Person,
    Processor,
    ProcessorSink,
    Retention,
    SQLStore,
    Store,
)

from .adapter_support import FormAdapter, closing
from .workshop import LEAP_DAY_BIRTHDAY, TIME_ZONE, WorkshopService

REGION = "us-east-2"


class WorkshopAdapter(FormAdapter):
    """The account is the customer id."""

    time_zone = TIME_ZONE
    leap_day_birthday = LEAP_DAY_BIRTHDAY
    underage_handling = "delete"
    birth_date_required = True  # sign-up without a birth date is refused
    history_kinds = ("repair_ticket", "ticket_note", "sms_reminder")

    def __init__(self, workdir: Path, *, sms_url: str, smtp: tuple[str, int] | None) -> None:
        self.db_path = workdir / "db" / "workshop.db"
        self.files_root = workdir / "files"
        self.sms_url = sms_url
        self.service = WorkshopService(self.db_path, self.files_root, sms_url, smtp)

    def close(self) -> None:
        pass  # the service opens a connection per request

    def set_today(self, today: date) -> None:
        """The workshop's business date is its own: set it as an operator would."""
        self.service.clock.set(today)

    def sign_up(self, form: dict[str, Any]) -> int:
        return self.service.register(form)

    def import_form(self, form: dict[str, Any]) -> int:
        return self.service.import_customer(form)

    def set_marketing(self, account: int, wanted: bool) -> None:
        self.service.set_marketing(account, wanted)

    def delete(self, account: int) -> None:
        self.service.delete(account)

    def unsubscribe(self, link: str) -> None:
        """A mailto goes to the unsubscribe mailbox; an https link is followed through the
        click tracker to the unsubscribe page, whose button is pressed."""
        if link.lower().startswith("mailto:"):
            self.service.unsubscribe_mail(link)
        else:
            self.service.unsubscribe_page(self.service.click(link))

    def send_marketing(self) -> None:
        self.service.send_campaign("Winter tune-up: 20% off watch servicing")

    def send_transactional(self, account: int) -> None:
        self.service.send_service_mail(account, "Your repair is ready for pick-up")

    def purchase(self, account: int, card: Card) -> None:
        self.service.pay(account, card.number)

    def update_profile(self, account: int, person: Person) -> None:
        self.service.update_profile(account, person.first_name, person.last_name, person.email)

    def update_birth_date(self, account: int, birth_date: date | None) -> None:
        self.service.correct_birth_date(account, birth_date)

    def add_history(self, account: int, kind: str, person: Person) -> None:
        if kind == "repair_ticket":
            self.service.open_ticket(account, "wristwatch")
        elif kind == "ticket_note":
            self.service.add_ticket_note(account, f"Quote approved by e-mail from {person.email}")
        elif kind == "sms_reminder":
            self.service.text_pickup_reminder(account)
        else:
            raise ValueError(f"unknown history kind {kind!r}")

    def stores(self) -> list[Store]:
        return [
            SQLStore(f"sqlite:///{self.db_path}", name="workshop-db", region=REGION),
            FileStore(self.files_root, name="workshop-files", region=REGION),
        ]

    def retentions(self) -> list[Retention]:
        return [
            Retention(
                exception="legal-obligation",
                store="workshop-db",
                locations=("invoices.billing_name",),
                fields=("first_name", "last_name"),
                reason="Invoices are tax records; they keep the billing name for seven years.",
            )
        ]

    def processors(self) -> list[Processor]:
        return [Processor("sms", url=self.sms_url, region=REGION)]


def on_sinks(
    workdir: Path, processor_sink: ProcessorSink, mail_sink: MailSink
) -> Iterator[WorkshopAdapter]:
    """The body of a ``privacy_adapter`` fixture: the workshop wired to the suite's sinks."""
    yield from closing(
        WorkshopAdapter(workdir, sms_url=processor_sink.url_for("sms"), smtp=mail_sink.address)
    )
