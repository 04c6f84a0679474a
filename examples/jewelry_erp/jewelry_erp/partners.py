"""Clients of the shop's partners: each gets only what its work needs.

The analytics service counts sign-ups by job title and state (no names, no
addresses); the courier needs a name and a street to deliver to; a style board
the customer connects their account to receives their profile while connected.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 5.0


class JsonClient:
    """Talks to a partner synchronously, so a failed call fails the request that made it
    (a deletion the partner never heard of must not be reported as done)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def _send(
        self, method: str, path: str, body: dict[str, Any], token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode("utf-8"),
            method=method,
            headers=headers,
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            answer: dict[str, Any] = json.loads(response.read() or b"{}")
        return answer


class AnalyticsClient(JsonClient):
    """Statistics: a visitor number, a job title and a state; nothing that names anyone."""

    def signup(self, customer_id: int, job_title: str, state: str) -> None:
        body = {"visitor": customer_id, "job_title": job_title, "state": state}
        self._send("POST", "/events/signup", body)

    def forget(self, customer_id: int, job_title: str) -> None:
        self._send("DELETE", f"/visitors/{customer_id}", {"job_title": job_title})


class CourierClient(JsonClient):
    """Deliveries: who to hand the parcel to and where."""

    def ship(self, order_id: int, recipient: dict[str, str]) -> None:
        self._send("POST", "/shipments", {"order": order_id, **recipient})

    def forget(self, name: str, street: str) -> None:
        self._send("POST", "/recipients/erase", {"name": name, "street": street})


class StyleBoardClient(JsonClient):
    """A third-party site a customer links their account to (OAuth-style)."""

    def connect(self, customer_id: int) -> str:
        answer = self._send("POST", "/oauth/token", {"grant_type": "authorization_code"})
        return str(answer["access_token"])

    def push_profile(self, token: str, profile: dict[str, str]) -> None:
        self._send("PUT", "/me/profile", profile, token)

    def revoke(self, token: str) -> None:
        self._send("POST", "/oauth/revoke", {"token": token})
