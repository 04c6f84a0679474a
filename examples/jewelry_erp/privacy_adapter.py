"""The jewelry ERP's privacy adapter: how the suite drives the module's real code paths."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from jewelry_erp import ErpService
from jewelry_erp.service import (
    POSTCARD_PRINTER,
    TIME_ZONE,
    DisclosureAlreadyAnswered,
    LineItem,
    UnderMinimumAge,
)
from pytest_stexcel_privacy import (
    Card,
    FileStore,
    Person,
    PrivacyAdapter,
    Processor,
    RegistrationRejected,
    RequestRefused,
    Retention,
    S3Store,
    SQLStore,
    Store,
)

RING: LineItem = ("RNG-18K-7", "18k gold band, size 7", 1, 89_900)


class JewelryAdapter(PrivacyAdapter):
    """The account is the customer id."""

    history_kinds = ("order", "repair_ticket", "design_request", "shipping_address", "export")
    time_zone = TIME_ZONE
    leap_day_birthday = "march-1"
    underage_handling = "delete"
    # Stricter than the policy, and this module keeps all three: it keeps a suppression list
    # (declared under retentions()), sends List-Unsubscribe headers and keeps service mail.
    opt_out_survives_deletion = True
    require_list_unsubscribe_headers = True
    require_service_mail_after_opt_out = True
    # The module keeps a tax ID too, which the policy does not name: the suite mints one.
    extra_fields: ClassVar[Mapping[str, str]] = {"tax_id": "identifier"}
    # It answers a customer's "Shine the Light" request once per calendar year, as allowed.
    disclosure_requests_limited = True
    service_class: type[ErpService] = ErpService  # broken variants swap this

    def __init__(
        self,
        workdir: Path,
        *,
        mailing_url: str,
        smtp: tuple[str, int] | None = None,
        s3_endpoint: str | None = None,
        service_class: type[ErpService] | None = None,
        postgres_url: str | None = None,
        partners: Mapping[str, str] | None = None,
        postcards_url: str | None = None,
    ) -> None:
        # SQLite by default. The database lives outside the file store, so the file scan
        # reads only what the module writes as files (logs, exports), not SQLite's pages.
        # With postgres_url, each adapter gets a schema of its own, dropped on close().
        self.db_path = workdir / "erp.db"
        self.postgres_url = postgres_url
        self.schema = f"jewelry_{uuid.uuid4().hex[:12]}" if postgres_url else None
        database: Path | str = self.db_path
        if postgres_url:
            admin = sa.create_engine(postgres_url, poolclass=NullPool)
            with admin.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
            admin.dispose()
            database = str(
                sa.make_url(postgres_url)
                .update_query_dict({"options": f"-csearch_path={self.schema}"})
                .render_as_string(hide_password=False)
            )
        self.database = database
        self.files_root = workdir / "files"
        self.mailing_url = mailing_url
        self.partners = dict(partners or {})  # "analytics", "couriers", "style-board" -> URL
        self.postcards_url = postcards_url
        self.s3_endpoint = s3_endpoint
        self.bucket = f"erp-attachments-{uuid.uuid4().hex[:12]}"
        self.service = (service_class or self.service_class)(
            database,
            self.files_root,
            mailing_url,
            smtp,
            attachments=(s3_endpoint, self.bucket) if s3_endpoint else None,
            partners=self.partners,
            postcards_url=postcards_url,
        )

    def close(self) -> None:
        self.service.close()
        if self.postgres_url:
            admin = sa.create_engine(self.postgres_url, poolclass=NullPool)
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{self.schema}" CASCADE')
            admin.dispose()

    def register(self, person: Person) -> int:
        try:
            return self._register(person)
        except UnderMinimumAge as exc:
            raise RegistrationRejected(str(exc)) from exc

    def _register(self, person: Person) -> int:
        return self.service.register_customer(**self._fields(person))

    @staticmethod
    def _fields(person: Person) -> dict[str, Any]:
        return {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "phone": person.phone,
            "employer": person.employer,
            "job_title": person.job_title,
            "birth_date": person.birth_date,
            "street": person.street,
            "city": person.city,
            "state": person.state,
            "postal_code": person.postal_code,
            "tax_id": person.extra.get("tax_id"),
        }

    def delete(self, account: int) -> None:
        self.service.delete_customer(account)

    def update_birth_date(self, account: int, birth_date: date | None) -> None:
        self.service.correct_birth_date(account, birth_date)

    def opt_out(self, account: int) -> None:
        self.service.set_marketing_opt_in(account, False)

    def send_marketing(self) -> None:
        self.service.send_campaign("Holiday collection", kind="newsletter")
        self.service.send_campaign("48-hour flash sale", kind="flash-sale")

    def unsubscribe(self, link: str) -> None:
        self.service.unsubscribe_link(link)

    def opt_in(self, account: int) -> None:
        self.service.set_marketing_opt_in(account, True)

    def update_profile(self, account: int, person: Person) -> None:
        self.service.update_profile(account, person.first_name, person.last_name, person.email)

    def reimport(self, person: Person) -> int:
        return self.service.import_customer(**self._fields(person))

    def send_transactional(self, account: int) -> None:
        self.service.send_transactional(account, "Your repair is ready for pick-up")

    def announce_policy_change(self) -> None:
        self.service.announce_policy_change()

    def third_parties_disclosed_for_direct_marketing(
        self, year: int, account: int | None = None
    ) -> list[str]:
        try:
            return self.service.third_parties_disclosed_for_direct_marketing(year, account)
        except DisclosureAlreadyAnswered as exc:
            raise RequestRefused(str(exc)) from exc

    def purchase(self, account: int, card: Card) -> None:
        self.service.place_order(account, card.number, [RING])

    def add_history(self, account: int, kind: str, person: Person) -> None:
        if kind == "order":
            self.purchase(account, person.card)
        elif kind == "repair_ticket":
            self.service.open_repair_ticket(account, "engagement ring")
        elif kind == "design_request":
            self.service.request_design(account, "engagement ring")
        elif kind == "shipping_address":
            self.service.add_shipping_address(
                account, f"{person.street} Rear", person.city, person.state, person.postal_code
            )
        elif kind == "export":
            self.service.export_customers_csv()
        else:
            raise ValueError(f"unknown history kind {kind!r}")

    def stores(self) -> list[Store]:
        return [
            SQLStore(
                self.postgres_url or f"sqlite:///{self.db_path}",
                name="erp-db",
                region="us-east-1",
                schemas=(self.schema,) if self.schema else None,
            ),
            FileStore(self.files_root, name="erp-files", region="us-east-1"),
            *(
                [
                    S3Store(
                        self.bucket,
                        endpoint_url=self.s3_endpoint,
                        name="erp-attachments",
                        region="us-east-1",
                    )
                ]
                if self.s3_endpoint
                else []
            ),
        ]

    def retentions(self) -> list[Retention]:
        return [
            Retention(
                exception="legal-obligation",
                store="erp-db",
                locations=("invoices.billing_name", "invoices.billing_street"),
                fields=("first_name", "last_name", "street"),
                reason="Invoices are tax records that must be kept for seven years.",
            ),
            Retention(
                exception="legal-obligation",
                store="erp-db",
                locations=("suppressions.email_sha256",),
                fields=("email",),
                reason="An opt-out must be honoured even if the person signs up again "
                "(CAN-SPAM); only the e-mail's SHA-256 is kept.",
            ),
        ]

    def processors(self) -> list[Processor]:
        declared = {
            # Counts sign-ups by job title and state; names nobody.
            "analytics": Processor(
                "analytics",
                url=self.partners.get("analytics", ""),
                region="us-east-1",
                purpose="statistical-analysis",
                fields=("job_title", "state"),
            ),
            "couriers": Processor(
                "couriers",
                url=self.partners.get("couriers", ""),
                region="us-east-1",
                purpose="deliveries",
                fields=("first_name", "last_name", "street", "city", "state", "postal_code"),
            ),
            "style-board": Processor(
                "style-board",
                url=self.partners.get("style-board", ""),
                region="us-east-1",
                connectable=True,
            ),
        }
        return [
            Processor(
                "mailing-provider",
                url=self.mailing_url,
                region="us-east-1",
                purpose="mail",
                fields=("email", "first_name"),
            ),
            *(declared[name] for name in self.partners),
            *self._printer(),
        ]

    def _printer(self) -> list[Processor]:
        """The postcard printer mails catalogues: a name and a postal address each."""
        if not self.postcards_url:
            return []
        fields = ("first_name", "last_name", "street", "city", "state", "postal_code")
        return [
            Processor(
                POSTCARD_PRINTER,
                url=self.postcards_url,
                region="us-east-1",
                purpose="mail",
                fields=fields,
            )
        ]

    def connect_third_party(self, account: int, name: str) -> None:
        self.service.connect_site(account, name)

    def disconnect_third_party(self, account: int, name: str) -> None:
        self.service.disconnect_site(account, name)


def on_sinks(
    workdir: Path,
    processor_sink: Any,
    mail_sink: Any,
    s3_server: str,
    *,
    adapter_class: type[JewelryAdapter] = JewelryAdapter,
    **options: Any,
) -> Iterator[JewelryAdapter]:
    """The body of a ``privacy_adapter`` fixture: the module wired to the suite's provider
    sink, mail sink and S3 server, closed afterwards. ``options``: ``service_class``,
    ``postgres_url``."""
    adapter = adapter_class(
        workdir,
        mailing_url=processor_sink.url_for("mailing"),
        postcards_url=processor_sink.url_for("postcards"),
        smtp=mail_sink.address,
        s3_endpoint=s3_server,
        partners={
            name: processor_sink.url_for(name) for name in ("analytics", "couriers", "style-board")
        },
        **options,
    )
    try:
        yield adapter
    finally:
        adapter.close()
