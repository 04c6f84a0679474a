"""Client of the postcard printer, a marketing partner that mails printed catalogues.

Each catalogue is one request carrying one customer's name and mailing address,
which is what printing and posting it needs; nothing else is sent.
"""

from __future__ import annotations

from .mailing import MailingClient
from .partners import JsonClient


class PostcardClient(JsonClient):
    def mail_catalogue(
        self, name: str, street: str, city: str, state: str, postal_code: str
    ) -> None:
        address = {"street": street, "city": city, "state": state, "postal_code": postal_code}
        self._send("POST", "/catalogues", {"name": name, "address": address})

    def forget(self, email: str) -> None:
        """Ask the printer to erase whatever it keeps of the customer (keyed by a hash)."""
        self._send("DELETE", f"/recipients/{MailingClient.member_id(email)}", {})
