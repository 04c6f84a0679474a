"""How child processes tell the parent's egress guard what they saw.

A forked child, or a Python the module starts, runs a guard of its own; its
events would die with it. Each child appends them, one JSON line per event,
to ``<pid>.jsonl`` in a directory the parent created; the parent reads what
is new whenever it is asked for events. Appends of one short line are atomic,
so a line is either whole or still missing its newline (and read next time).

Every line is ``{"v": 1, "pid": <pid>, "event": {...}}``; the event's fields
are :meth:`EgressEvent.to_record`'s. A line of any other shape is handed back
as unreadable, never skipped: the parent then cannot say what the child did.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERSION = 1

_directory: Path | None = None
_directory_lock = threading.Lock()


def directory() -> Path:
    """This process's directory for its children's reports, created on first use."""
    global _directory
    with _directory_lock:
        if _directory is None:
            _directory = Path(tempfile.mkdtemp(prefix="stexcel-egress-"))
            owner = os.getpid()
            atexit.register(_remove, _directory, owner)
        return _directory


def _remove(path: Path, owner: int) -> None:
    if os.getpid() == owner:  # a forked child exiting normally must not take it along
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class ReportWriter:
    """A child's side: one line per event, written before the event's refusal is raised."""

    directory: Path

    def write(self, event: dict[str, Any]) -> None:
        line = json.dumps({"v": VERSION, "pid": os.getpid(), "event": event}) + "\n"
        path = self.directory / f"{os.getpid()}.jsonl"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(descriptor, line.encode())
        finally:
            os.close(descriptor)


@dataclass(frozen=True)
class Unreadable:
    """A line that is not a report of this version; says which file and why."""

    source: str
    reason: str


@dataclass
class ReportReader:
    """The parent's side: what every child appended since the last read."""

    directory: Path
    _offsets: dict[str, int] = field(default_factory=dict)

    def skip_to_end(self) -> None:
        """Forget reports already written: they belong to checks that have been judged."""
        self.read()

    def read(self) -> list[tuple[int, dict[str, Any]] | Unreadable]:
        found: list[tuple[int, dict[str, Any]] | Unreadable] = []
        try:
            names = sorted(p.name for p in self.directory.iterdir() if p.suffix == ".jsonl")
        except OSError as exc:
            return [Unreadable(str(self.directory), f"cannot list the reports: {exc}")]
        for name in names:
            start = self._offsets.get(name, 0)
            try:
                with open(self.directory / name, "rb") as stream:
                    stream.seek(start)
                    data = stream.read()
            except OSError as exc:
                found.append(Unreadable(name, str(exc)))
                continue
            complete = data[: data.rfind(b"\n") + 1]
            self._offsets[name] = start + len(complete)
            found.extend(_parse(name, line) for line in complete.splitlines() if line.strip())
        return found


def _parse(source: str, line: bytes) -> tuple[int, dict[str, Any]] | Unreadable:
    try:
        record = json.loads(line)
    except ValueError as exc:
        return Unreadable(source, f"not JSON: {exc}")
    if not isinstance(record, dict) or record.get("v") != VERSION:
        return Unreadable(source, f"not a version-{VERSION} report: {line[:80]!r}")
    pid, event = record.get("pid"), record.get("event")
    if not isinstance(pid, int) or not isinstance(event, dict):
        return Unreadable(source, f"no pid or event: {line[:80]!r}")
    return pid, event
