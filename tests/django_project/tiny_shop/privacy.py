"""The tiny shop's adapter: the ORM is the module's real code path."""

from __future__ import annotations

import logging
from datetime import date

from pytest_stexcel_privacy import Person, RegistrationRejected
from pytest_stexcel_privacy.django import DjangoPrivacyAdapter

from .models import Customer

log = logging.getLogger("tiny_shop")


class TinyShopAdapter(DjangoPrivacyAdapter):
    region = "us-east-1"
    sends_email = False
    keeps_customers = False  # a broken variant "deletes" nobody

    def register(self, person: Person) -> int:
        born, today = person.birth_date, date.today()
        if (
            born is None
            or (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) < 13
        ):
            raise RegistrationRejected("under 13")
        customer = Customer.objects.create(name=person.full_name, email=person.email)
        log.info("new customer %s", customer.pk)
        return customer.pk

    def delete(self, account: int) -> None:
        if not self.keeps_customers:
            Customer.objects.filter(pk=account).delete()
