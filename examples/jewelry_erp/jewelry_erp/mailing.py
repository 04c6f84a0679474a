"""Client of the mailing-list provider, a processor holding every customer's e-mail address."""

from __future__ import annotations

import hashlib

from .json_api import JsonApiClient


class MailingClient(JsonApiClient):
    @staticmethod
    def member_id(email: str) -> str:
        """The provider keys members by a hash, which keeps the address out of URLs and logs."""
        return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()

    def subscribe(self, email: str, first_name: str) -> None:
        self._send("POST", "/lists/customers/members", {"email": email, "first_name": first_name})

    def forget(self, email: str) -> None:
        """Erase the member for good, not merely unsubscribe them."""
        self._send("DELETE", f"/lists/customers/members/{self.member_id(email)}", {})
