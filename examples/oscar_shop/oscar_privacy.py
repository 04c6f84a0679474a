"""The oscar shop's privacy adapter: the suite drives the shop through its own web pages."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.test import Client
from oscar.core.loading import get_model

from oscar_shop.shop.checkout import place_order
from oscar_shop.shop.mail import send_dispatch_notice, send_newsletter
from pytest_stexcel_privacy import Card, Person, RegistrationRejected, Retention
from pytest_stexcel_privacy.django import DjangoPrivacyAdapter, DjangoSinks

Country = get_model("address", "Country")
UserAddress = get_model("address", "UserAddress")
WishList = get_model("wishlists", "WishList")
PASSWORD = "correct-horse-battery-staple-9"
SERVICE_SUBJECTS = ("Your order is on its way", "Confirmation of order")


class OscarShopAdapter(DjangoPrivacyAdapter):
    """The account is the user's primary key."""

    region = "us-east-1"
    history_kinds: ClassVar[tuple[str, ...]] = ("order", "address", "wishlist")

    def __init__(self, sinks: DjangoSinks) -> None:
        super().__init__(sinks)
        # Rows Oscar's migrations made are flushed between transactional tests.
        Site.objects.update_or_create(id=1, defaults={"domain": "testserver", "name": "Shop"})
        Country.objects.get_or_create(
            iso_3166_1_a2="US",
            defaults={"name": "United States", "printable_name": "United States"},
        )

    @staticmethod
    def _user(account: int) -> Any:
        return get_user_model().objects.get(pk=account)

    @staticmethod
    def _ok(response: Any, what: str) -> None:
        if response.status_code >= 400:
            raise RuntimeError(f"{what} answered HTTP {response.status_code}")

    def register(self, person: Person) -> int:
        response = Client().post(
            "/accounts/sign-up/",
            {
                "email": person.email,
                "password1": PASSWORD,
                "password2": PASSWORD,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "birth_date": person.birth_date.isoformat() if person.birth_date else "",
                "phone": person.phone,
                "line1": person.street,
                "city": person.city,
                "state": person.state,
                "postcode": person.postal_code,
            },
        )
        if response.status_code == 302:
            return int(response.wsgi_request.user.pk)
        errors = response.context["form"].errors
        if "birth_date" in errors:
            raise RegistrationRejected(errors["birth_date"][0])
        raise RuntimeError(f"the sign-up page refused the person: {errors.as_text()}")

    def delete(self, account: int) -> None:
        response = self.client_for(self._user(account)).post("/privacy/delete/")
        self._ok(response, "/privacy/delete/")

    def opt_out(self, account: int) -> None:
        self._marketing(account, "0")

    def opt_in(self, account: int) -> None:
        self._marketing(account, "1")

    def _marketing(self, account: int, subscribe: str) -> None:
        response = self.client_for(self._user(account)).post(
            "/privacy/marketing/", {"subscribe": subscribe}
        )
        self._ok(response, "/privacy/marketing/")

    def unsubscribe(self, link: str) -> None:
        self._ok(Client().get(urlsplit(link).path), link)

    def send_marketing(self) -> None:
        send_newsletter()

    def send_transactional(self, account: int) -> None:
        send_dispatch_notice(self._user(account))

    def classify_mail(self, message: Any) -> str | None:
        """Oscar's service mail carries no category header: known by its subject."""
        subject = str(message.subject or "")
        return "transactional" if subject.startswith(SERVICE_SUBJECTS) else None

    def purchase(self, account: int, card: Card) -> None:
        place_order(self._user(account), card.number)

    def add_history(self, account: int, kind: str, person: Person) -> None:
        user = self._user(account)
        if kind == "order":
            self.purchase(account, person.card)
        elif kind == "address":
            UserAddress.objects.create(
                user=user,
                first_name=person.first_name,
                last_name=person.last_name,
                line1=f"{person.street} Unit {user.addresses.count() + 1}",  # Oscar: unique
                line4=person.city,
                state=person.state,
                postcode=person.postal_code,
                country=Country.objects.get(iso_3166_1_a2="US"),
            )
        elif kind == "wishlist":
            WishList.objects.create(owner=user, name="Birthday")
        else:
            raise ValueError(f"unknown history kind {kind!r}")

    def retentions(self) -> list[Retention]:
        return [
            Retention(
                exception="legal-obligation",
                store="database:default",
                locations=tuple(
                    f"order_shippingaddress.{column}"
                    for column in ("first_name", "last_name", "line1", "search_text")
                ),
                fields=("first_name", "last_name", "street"),
                reason="Orders are accounting records kept for tax law; the delivery name and "
                "street are part of them (FINDINGS.md, finding 1).",
            )
        ]
