"""Reading the privacy options from the command line and ini file, once, at start-up.

Everything a user can get wrong here (a bad number, an unwritable report
directory, a baseline of another schema, a malformed acceptance file) stops
the run at start-up with a usage error naming the option, rather than after
an hour of checks.
"""

from __future__ import annotations

import fnmatch
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .settings import PrivacySettings

if TYPE_CHECKING:
    from .findings.acceptance import Acceptance
    from .report.model import RunReport


def load_settings(config: pytest.Config) -> PrivacySettings:
    from .findings.acceptance import AcceptanceFileError, load_acceptances
    from .profiles import DEFAULT_PROFILE
    from .report.writer import ReportDirectoryError, prepare_directory

    report_dir = _path(config, "privacy_report")
    is_worker = hasattr(config, "workerinput")
    if report_dir is not None and not is_worker:
        try:
            prepare_directory(report_dir)
        except ReportDirectoryError as exc:
            raise pytest.UsageError(f"--privacy-report: {exc}") from None
    baseline = None if is_worker else _path(config, "privacy_baseline")
    acceptances: tuple[Acceptance, ...] = ()
    accept_path = _path(config, "privacy_accept")
    if accept_path is not None:
        try:
            acceptances = tuple(load_acceptances(accept_path))
        except AcceptanceFileError as exc:
            raise pytest.UsageError(f"--privacy-accept: {exc}") from None
    clauses = _clause_patterns(config)
    seed = config.getoption("hypothesis_seed", None)
    return PrivacySettings(
        max_examples=(
            _number(config, "privacy_max_examples", int)
            if _raw(config, "privacy_max_examples") not in (None, "")
            else None
        ),
        processor_timeout=_number(config, "privacy_processor_timeout", float),
        call_timeout=_number(config, "privacy_call_timeout", float),
        mail_settle=_number(config, "privacy_mail_settle", float),
        shrink_seconds=_number(config, "privacy_shrink_seconds", float, zero_ok=True),
        acceptances=acceptances,
        report_dir=report_dir,
        baseline=baseline,
        unmask=bool(config.getoption("privacy_unmask") or config.getini("privacy_unmask")),
        rescan=bool(config.getoption("privacy_rescan") or config.getini("privacy_rescan")),
        pin_workers=_on_or_off(config, "privacy_pin_workers"),
        hypothesis_seed=None if seed is None else str(seed),
        hypothesis_profile=config.getoption("hypothesis_profile", None) or DEFAULT_PROFILE,
        clauses=clauses,
    )


def load_baseline(settings: PrivacySettings) -> tuple[RunReport, str] | None:
    """The baseline report named by ``--privacy-baseline``, loaded (a usage error if unreadable)."""
    from .report.model import ReportFormatError, RunReport

    if settings.baseline is None:
        return None
    try:
        return RunReport.load(settings.baseline), str(settings.baseline)
    except ReportFormatError as exc:
        raise pytest.UsageError(f"--privacy-baseline: {exc}") from None


def _clause_patterns(config: pytest.Config) -> tuple[str, ...]:
    from .clauses import CLAUSES

    raw = str(_raw(config, "privacy_clauses") or "")
    patterns = tuple(p.strip() for p in raw.split(",") if p.strip())
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(c, pattern) for c in CLAUSES):
            raise pytest.UsageError(
                f"--privacy-clauses: {pattern!r} matches no clause; clauses are "
                f"{', '.join(CLAUSES)}"
            )
    return patterns


ON, OFF = ("on", "true", "yes", "1"), ("off", "false", "no", "0")


def _on_or_off(config: pytest.Config, name: str) -> bool:
    raw = str(_raw(config, name)).strip().lower()
    if raw not in ON + OFF:
        flag = "--" + name.replace("_", "-")
        raise pytest.UsageError(f"{flag} (ini {name}): {raw!r} must be 'on' or 'off'")
    return raw in ON


def _raw(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name)
    return config.getini(name) if value is None else value


def _path(config: pytest.Config, name: str) -> Path | None:
    raw = _raw(config, name)
    if not raw:
        return None
    path = Path(str(raw)).expanduser()
    if config.getoption(name) is None and not path.is_absolute():
        return config.rootpath / path  # ini paths are relative to the ini file's directory
    return path.absolute()  # command-line paths, to the directory pytest started in


def _number(config: pytest.Config, name: str, kind: type[Any], *, zero_ok: bool = False) -> Any:
    """The option's value, else the ini value; a usage error names both spellings."""
    raw = _raw(config, name)
    spelling = f"--{name.replace('_', '-')} (ini {name})"
    try:
        value = kind(raw)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise pytest.UsageError(f"{spelling} must be {expected}, got {raw!r}") from None
    if not math.isfinite(value):  # nan compares false with everything; inf never times out
        raise pytest.UsageError(f"{spelling} must be a finite number, got {raw!r}")
    if value < 0 or (value == 0 and not zero_ok):
        bound = "zero or more" if zero_ok else "positive"
        raise pytest.UsageError(f"{spelling} must be {bound}, got {raw!r}")
    return value
