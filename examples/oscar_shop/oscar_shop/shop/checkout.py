"""Placing an order: Oscar's OrderCreator, with the card handed to the payment provider.

The shop keeps only the card's last four digits, as the payment source's reference.
"""

from typing import Any

from oscar.core.loading import get_model
from oscar.test.factories import create_order

ShippingAddress = get_model("order", "ShippingAddress")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")


def place_order(user: Any, card_number: str) -> Any:
    """Order one product for delivery to the user's first address, paid by card."""
    address = user.addresses.first()
    shipping = ShippingAddress.objects.create(
        first_name=user.first_name,
        last_name=user.last_name,
        line1=address.line1,
        line4=address.line4,
        state=address.state,
        postcode=address.postcode,
        phone_number=address.phone_number,
        country=address.country,
    )
    order = create_order(user=user, shipping_address=shipping)
    Source.objects.create(
        order=order,
        source_type=SourceType.objects.get_or_create(name="Card")[0],
        amount_allocated=order.total_incl_tax,
        reference=f"card ending {card_number[-4:]}",
    )
    return order
