"""Client of the mailing-list provider, a processor holding every customer's e-mail address."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 5.0


class MailingClient:
    """Talks to the provider synchronously, so a failed call fails the request that made it
    (a deletion the provider never heard of must not be reported as done)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    @staticmethod
    def member_id(email: str) -> str:
        """The provider keys members by a hash, which keeps the address out of URLs and logs."""
        return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()

    def subscribe(self, email: str, first_name: str) -> None:
        self._send("POST", "/lists/customers/members", {"email": email, "first_name": first_name})

    def forget(self, email: str) -> None:
        """Erase the member for good, not merely unsubscribe them."""
        self._send("DELETE", f"/lists/customers/members/{self.member_id(email)}", {})

    def _send(self, method: str, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode("utf-8"),
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
