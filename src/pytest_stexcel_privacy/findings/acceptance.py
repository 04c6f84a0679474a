"""Accepted findings: known problems a team has decided to live with, until a date.

A project lists them in a TOML file (``--privacy-accept`` / ini
``privacy_accept``); a matching piece of evidence no longer fails its check
but is shown as accepted in every report. Each acceptance needs a reason, a
pattern that names what it accepts (one matching every finding is refused)
and an expiry: once expired it no longer applies and fails the run, so an
exception cannot quietly become permanent. One that matched nothing in a
run is listed as unused in every report, so a stale entry gets noticed.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..clauses import CLAUSES
from .evidence import Evidence
from .statistics import Finding

EXAMPLE = """\
[[accept]]
clause = "deletion"
finding = "erp-db audit_log.payload: *"
reason = "ERP-123: the audit payload purge ships in release 4.2"
expires = 2027-01-31"""

# Keys made of nothing but punctuation, the connectives of an evidence key ("store
# location: field as form") and a character no name holds: a pattern matching one of
# them names nothing, so it would accept findings of any kind ("*", "?*", "*.*", "*: *").
_NAMELESS_KEYS = ("", "\0", "\0-\0_\0 \0.\0/\0: \0 as \0 [\0=\0]")


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

    def names_nothing(self) -> bool:
        return any(fnmatch.fnmatchcase(key, self.finding) for key in _NAMELESS_KEYS)

    def used_in(self, findings: Iterable[Finding]) -> bool:
        """Whether some check of ``findings`` accepted evidence under this acceptance."""
        return any(self.covers(e.clause, e) for f in findings for e in f.accepted)

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
    if Acceptance(str(clause), finding, "").names_nothing():
        raise AcceptanceFileError(
            f"{where}: finding {finding!r} names nothing, so it would accept any finding "
            f"of {clause!r}; name the store and location it accepts, for example:\n{EXAMPLE}"
        )
    if not isinstance(reason, str) or not reason.strip():
        raise AcceptanceFileError(f"{where}: 'reason' is required: say why this is acceptable")
    expires = entry.get("expires")
    if expires is None:
        raise AcceptanceFileError(
            f"{where}: 'expires' is required: say until when this is acceptable, "
            "e.g. expires = 2027-01-31"
        )
    if not (isinstance(expires, date) and type(expires) is date):
        raise AcceptanceFileError(f"{where}: 'expires' must be a date such as 2027-01-31")
    return Acceptance(clause, finding, reason, expires)
