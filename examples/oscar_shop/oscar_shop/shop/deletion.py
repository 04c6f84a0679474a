"""Deleting a customer: Oscar has no "delete my data", so the shop provides one.

Deleting Oscar's user cascades to its address book, baskets, wish lists, alerts,
notifications and the e-mails Oscar recorded. Orders are kept (Oscar sets their user
to NULL): they are accounting records, so the name and street on their shipping
address stay, as the adapter declares; the phone number, which no invoice needs, goes.
"""

from typing import Any

from django.db import transaction
from oscar.core.loading import get_model

ShippingAddress = get_model("order", "ShippingAddress")


def delete_customer(user: Any) -> None:
    with transaction.atomic():
        ShippingAddress.objects.filter(order__user=user).update(phone_number="", notes="")
        user.delete()
