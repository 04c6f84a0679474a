"""Accepted findings: known problems a team has decided to live with, until a date.

A project lists them in a TOML file (``--privacy-accept`` / ini
``privacy_accept``); a matching piece of evidence no longer fails its check
but is shown as accepted in every report. Each acceptance needs a reason and
may carry an expiry: once expired it no longer applies and fails the run,
so an exception cannot quietly become permanent.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..clauses import CLAUSES
from .evidence import Evidence

EXAMPLE = """\
[[accept]]
clause = "deletion"
finding = "erp-db audit_log.payload: *"
reason = "ERP-123: the audit payload purge ships in release 4.2"
expires = 2027-01-31"""


class AcceptanceFileError(ValueError):
    pass


@dataclass(frozen=True)
class Acceptance:
    clause: str
    finding: str  # a shell-style pattern over the evidence key, "store location: field as form"
    reason: str
    expires: date | None = None

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def covers(self, clause: str, evidence: Evidence) -> bool:
        return clause == self.clause and fnmatch.fnmatchcase(evidence.key, self.finding)

    def describe(self) -> str:
        until = f", until {self.expires.isoformat()}" if self.expires else ""
        return f"{self.clause}: {self.finding!r} ({self.reason}{until})"


def load_acceptances(path: Path) -> list[Acceptance]:
    """Read and validate the file; every error names the file and the entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AcceptanceFileError(f"accepted-findings file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AcceptanceFileError(f"accepted-findings file {str(path)!r}: {exc}") from None
    entries = data.get("accept", [])
    if not isinstance(entries, list) or set(data) - {"accept"}:
        raise AcceptanceFileError(
            f"{path}: expected only [[accept]] tables, for example:\n{EXAMPLE}"
        )
    return [_entry(path, number, entry) for number, entry in enumerate(entries, start=1)]


def _entry(path: Path, number: int, entry: object) -> Acceptance:
    where = f"{path} [[accept]] #{number}"
    if not isinstance(entry, dict):
        raise AcceptanceFileError(f"{where}: expected a table")
    unknown = set(entry) - {"clause", "finding", "reason", "expires"}
    if unknown:
        raise AcceptanceFileError(f"{where}: unknown keys {sorted(unknown)}")
    clause, finding, reason = (entry.get(k) for k in ("clause", "finding", "reason"))
    if clause not in CLAUSES:
        raise AcceptanceFileError(f"{where}: clause {clause!r} is not one of {list(CLAUSES)}")
    if not isinstance(finding, str) or not finding.strip():
        raise AcceptanceFileError(f"{where}: 'finding' must name what is accepted")
    if not isinstance(reason, str) or not reason.strip():
        raise AcceptanceFileError(f"{where}: 'reason' is required: say why this is acceptable")
    expires = entry.get("expires")
    if expires is not None and not (isinstance(expires, date) and type(expires) is date):
        raise AcceptanceFileError(f"{where}: 'expires' must be a date such as 2027-01-31")
    return Acceptance(clause, finding, reason, expires)
