"""Collection of your Personal Information: clause ``card-data``.

A card number serves the purchase it was given for. Right after
``purchase()`` returns, and again after the buyer is deleted, no store may
hold the full number in any form (digits, space- or dash-grouped); the last
four digits are not a card number and are not searched.
"""

from __future__ import annotations

from ..errors import CheckInconclusive
from ..findings.evidence import Evidence
from ..findings.outcomes import PrivacyViolation
from ..harness.holder import PrivacyHarness
from ..people.needles import Needle
from ..people.persons import assemble
from .registry import privacy_check
from .retention_rules import covers_location, sound_retentions


class CardDataChecks:
    """Checks for the card-data promise of "Collection of your Personal Information"."""

    @privacy_check("card-data", needs=("register", "purchase", "delete", "stores"))
    def test_card_number_does_not_outlive_the_purchase(
        self, privacy_harness: PrivacyHarness
    ) -> None:
        """After the purchase completes, and after the buyer is deleted, no store holds
        the full card number (a declared retention naming card_number excuses it)."""
        __tracebackhide__ = True
        harness = privacy_harness
        retentions, _ = sound_retentions(harness)
        buyer = assemble(given="Carla", family="Cardholder")
        cards: list[Needle] = [n for n in buyer.needles if n.field == "card_number"]
        if not cards:
            raise CheckInconclusive("the synthetic buyer has no card number to look for")
        account = harness.adapter.call_within(harness.settings.call_timeout, "register", buyer)
        harness.adapter.call_within(harness.settings.call_timeout, "purchase", account, buyer.card)
        harness.statistics.fixed_examples += 1
        if not harness.scanner.scan([buyer]):  # positive control: the scan sees the buyer
            raise CheckInconclusive(
                f"after {harness.adapter.name}.register() and purchase(), no declared store "
                "holds any trace of the buyer, so finding no card number would prove nothing. "
                f"Stores scanned: {', '.join(s.name for s in harness.scanner.stores)}. Does "
                "stores() list every place the module writes to?"
            )

        def kept(moment: str) -> list[Evidence]:
            found = harness.scanner.scan(cards)
            return [
                hit.evidence(moment)
                for hit in found
                if not any(
                    covers_location(r, hit) and "card_number" in r.fields for r in retentions
                )
            ]

        after_purchase = kept("after purchase() returned")
        harness.adapter.call_within(harness.settings.call_timeout, "delete", account)
        after_delete = kept("after delete()")
        if after_purchase or after_delete:
            raise PrivacyViolation(
                "card-data",
                "the full card number outlived its purchase",
                after_purchase + after_delete,
            )
