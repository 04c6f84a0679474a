"""The atelier's privacy adapter: the suite drives the atelier's real code paths."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from pytest_stexcel_privacy import (
    Card,
    FileStore,
    MailMessage,
    MailSink,
    Person,
    Processor,
    ProcessorSink,
    Retention,
    SQLStore,
    Store,
)

from .adapter_support import FormAdapter, closing
from .atelier import KIND_HEADER, LEAP_DAY_BIRTHDAY, TIME_ZONE, AtelierService

REGION = "us-west-2"
# What the atelier's own header says about a message.
KINDS = {"lookbook": "marketing", "atelier-update": "transactional"}


class AtelierAdapter(FormAdapter):
    """The account is the client id, a UUID in hex."""

    time_zone = TIME_ZONE
    leap_day_birthday = LEAP_DAY_BIRTHDAY
    underage_handling = "delete"
    mail_category_header = KIND_HEADER
    history_kinds = ("measurements", "commission", "fitting", "delivery", "client_export")

    def __init__(self, workdir: Path, *, couriers_url: str, smtp: tuple[str, int] | None) -> None:
        self.couriers_url = couriers_url
        self.service = AtelierService(
            workdir / "db" / "atelier.db", workdir / "documents", couriers_url, smtp
        )

    def close(self) -> None:
        self.service.close()

    def sign_up(self, form: dict[str, Any]) -> str:
        return self.service.sign_up(form)

    def import_form(self, form: dict[str, Any]) -> str:
        return self.service.import_client(form)

    def set_marketing(self, account: str, wanted: bool) -> None:
        self.service.set_newsletter(account, wanted)

    def delete(self, account: str) -> None:
        self.service.forget(account)

    def unsubscribe(self, link: str) -> None:
        self.service.leave(link)

    def send_marketing(self) -> None:
        self.service.send_lookbook("spring")

    def send_transactional(self, account: str) -> None:
        self.service.request_password_reset(account)

    def classify_mail(self, message: MailMessage) -> str | None:
        """The atelier's own kinds; anything else (a password reset) is left to the rule."""
        return KINDS.get(message.header(KIND_HEADER).strip().lower())

    def purchase(self, account: str, card: Card) -> None:
        self.service.pay_deposit(account, card.number)

    def update_profile(self, account: str, person: Person) -> None:
        self.service.edit_profile(account, person.first_name, person.last_name, person.email)

    def update_birth_date(self, account: str, birth_date: date | None) -> None:
        self.service.correct_birth_date(account, birth_date)

    def add_history(self, account: str, kind: str, person: Person) -> None:
        if kind == "measurements":
            self.service.take_measurements(account, f"Prefers a slim fit; call {person.phone}")
        elif kind == "commission":
            self.service.commission(account, "wool overcoat", 240_000)
        elif kind == "fitting":
            self.service.book_fitting(account)
        elif kind == "delivery":
            self.service.ship(account)
        elif kind == "client_export":
            self.service.export_clients()
        else:
            raise ValueError(f"unknown history kind {kind!r}")

    def stores(self) -> list[Store]:
        return [
            SQLStore(self.service.engine, name="atelier-db", region=REGION),
            FileStore(self.service.root, name="atelier-documents", region=REGION),
        ]

    def retentions(self) -> list[Retention]:
        """None: nothing of a deleted client is kept, not even a hash of the address."""
        return []

    def processors(self) -> list[Processor]:
        return [Processor("couriers", url=self.couriers_url, region=REGION)]

    def deployment(self) -> dict[str, str]:
        return {
            "database": "postgresql://atelier.cluster-c9x2k1.us-west-2.rds.amazonaws.com/atelier",
            "documents": REGION,
        }


def on_sinks(
    workdir: Path, processor_sink: ProcessorSink, mail_sink: MailSink
) -> Iterator[AtelierAdapter]:
    """The body of a ``privacy_adapter`` fixture: the atelier wired to the suite's sinks."""
    yield from closing(
        AtelierAdapter(
            workdir, couriers_url=processor_sink.url_for("couriers"), smtp=mail_sink.address
        )
    )
