"""Client of the postcard printer, a marketing partner that mails printed catalogues.

Each catalogue is one request carrying one customer's name and mailing address,
which is what printing and posting it needs; nothing else is sent.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 5.0


class PostcardClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def mail_catalogue(
        self, name: str, street: str, city: str, state: str, postal_code: str
    ) -> None:
        address = {"street": street, "city": city, "state": state, "postal_code": postal_code}
        self._send("POST", "/catalogues", {"name": name, "address": address})

    def forget(self, email: str) -> None:
        """Ask the printer to erase whatever it keeps of the customer (keyed by a hash)."""
        digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
        self._send("DELETE", f"/recipients/{digest}", {})

    def _send(self, method: str, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode("utf-8"),
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
