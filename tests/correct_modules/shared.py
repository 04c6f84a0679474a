"""Plumbing both correct modules use the same way: ages, providers, SMTP, log files.

Each module keeps its own schema, mail and deletion; only what any two small
ERPs would take from the same library lives here.
"""

from __future__ import annotations

import calendar
import http.client
import json
import os
import re
import smtplib
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

MINIMUM_AGE = 13  # the policy signs up no child under thirteen
PROVIDER_TIMEOUT_SECONDS = 5.0


class RegistrationRefused(ValueError):
    """The module refuses the sign-up: under 13, or no birth date to show otherwise."""


def completed_years(born: date, day: date, leap_day_birthday: str) -> int:
    """Whole years on ``day``. Someone born on 29 February turns a year older on
    1 March (``"march-1"``) or on 28 February (``"february-28"``) in other years."""
    birthday = (born.month, born.day)
    if birthday == (2, 29) and not calendar.isleap(day.year):
        birthday = (3, 1) if leap_day_birthday == "march-1" else (2, 28)
    return day.year - born.year - ((day.month, day.day) < birthday)


def old_enough(born: date | None, day: date, leap_day_birthday: str) -> bool:
    """Whether a person born on ``born`` may sign up on ``day``; no birth date cannot show it."""
    return born is not None and completed_years(born, day, leap_day_birthday) >= MINIMUM_AGE


def e164(phone: str) -> str:
    """A US phone number as +1 and ten digits, as providers expect it."""
    return "+1" + re.sub(r"\D", "", phone)[-10:]


class ProviderClient:
    """A service provider's JSON API over ``http.client``, called synchronously: a
    provider that did not hear of a deletion fails the deletion instead of being
    reported as told."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.scheme, self.netloc, self.prefix = parts.scheme, parts.netloc, parts.path.rstrip("/")

    def call(self, method: str, path: str, body: dict[str, Any]) -> None:
        kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        connection = kind(self.netloc, timeout=PROVIDER_TIMEOUT_SECONDS)
        try:
            connection.request(
                method,
                self.prefix + path,
                body=json.dumps(body).encode("utf-8"),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
            response = connection.getresponse()
            response.read()
            if response.status >= 300:
                raise ConnectionError(f"{method} {path}: the provider answered {response.status}")
        finally:
            connection.close()


def mailto_subject(link: str) -> tuple[str, list[str]]:
    """The mailbox of a ``mailto:`` link and the words of its subject."""
    parts = urlsplit(link)
    return parts.path, unquote(parse_qs(parts.query).get("subject", [""])[0]).split()


def send_mail(smtp: tuple[str, int] | None, messages: Iterable[EmailMessage]) -> int:
    """Hand messages to the SMTP relay; returns how many went (none without a relay)."""
    pending = list(messages)
    if smtp is None or not pending:
        return 0
    with smtplib.SMTP(*smtp, timeout=10) as client:
        for message in pending:
            client.send_message(message)
    return len(pending)


def replace_file(path: Path, text: str) -> None:
    """Write beside the file, then swap it in: a crash mid-purge must not lose the file."""
    temporary = path.with_name(path.name + ".purging")
    temporary.write_text(text, encoding="utf-8", newline="")
    os.replace(temporary, path)


class LineLog:
    """An application log file: one line per event, purged line by line on deletion."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(f"{stamp} {text}\n")

    def purge(self, concerns: Callable[[str], bool]) -> int:
        """Drop every line ``concerns`` says is about the person; returns how many went."""
        with self._lock:
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [line for line in lines if not concerns(line)]
            if len(kept) < len(lines):
                replace_file(self.path, "".join(kept))
            return len(lines) - len(kept)
