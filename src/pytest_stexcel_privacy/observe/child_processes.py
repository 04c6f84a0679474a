"""Processes the module starts during a check: which ones the guard can see into.

- A forked child inherits the audit hook, the patches and the guard; from the
  fork on, its guard reports to the parent (:mod:`.child_reports`).
- A Python the module starts (``subprocess``, ``os.system``, ``exec``,
  ``posix_spawn``, ``multiprocessing`` spawn or forkserver) finds
  ``child_site`` first on ``PYTHONPATH``. Its ``sitecustomize`` starts a guard
  from ``STEXCEL_PRIVACY_EGRESS_CHILD`` (the same boundary, reporting to the
  parent) and reports the child's command line, so the parent knows it is seen.
- Anything else (curl, a Python started with ``-I``, ``-S`` or a clean
  environment) is not seen: the check errors unless the adapter allow-lists the
  program in ``PrivacyAdapter.allowed_subprocesses``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENVIRONMENT = "STEXCEL_PRIVACY_EGRESS_CHILD"
SITE_DIRECTORY = Path(__file__).with_name("child_site")
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding the package
DESCRIPTION_VERSION = 1
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash"})
# Outside quotes, each of these makes a shell command more than one simple program.
SHELL_OPERATORS = "();<>|&\n"


@dataclass(frozen=True)
class ProcessStart:
    """A process start as its audit event described it."""

    how: str  # the audit event: subprocess.Popen, os.system, os.exec ...
    executable: str
    argv: tuple[str, ...]

    @property
    def shell_command(self) -> tuple[str, ...] | None:
        """The one program an ``sh -c`` runs, with its arguments as the shell splits them;
        None for anything else, and for pipelines, lists and substitutions."""
        argv = self.argv
        if len(argv) < 3 or os.path.basename(argv[0]) not in SHELLS or argv[1] != "-c":
            return None
        lexer = shlex.shlex(argv[2], posix=True, punctuation_chars=SHELL_OPERATORS)
        lexer.whitespace, lexer.whitespace_split = " \t\r", True
        try:
            words = tuple(lexer)
        except ValueError:  # unbalanced quotes
            return None
        for word in words:
            if not word.strip(SHELL_OPERATORS) or "`" in word or "$(" in word:
                return None
        return words or None

    @property
    def command(self) -> tuple[str, ...]:
        return self.shell_command or self.argv

    @property
    def program(self) -> str:
        shell_command = self.shell_command
        return shell_command[0] if shell_command else self.executable

    def reported_by(self, guarded: Sequence[tuple[str, ...]]) -> bool:
        """Whether a guarded Python child reported this command line as its own.

        A script run through its ``#!`` line reports the interpreter first:
        ``pytest -q`` comes back as ``/venv/bin/python /venv/bin/pytest -q``.
        """
        command = self.command
        if not command:
            return False
        for argv in guarded:
            if argv == command:
                return True
            tail = len(command)
            if (
                len(argv) > tail
                and argv[len(argv) - tail + 1 :] == command[1:]
                and os.path.basename(argv[-tail]) == os.path.basename(command[0])
            ):
                return True
        return False

    def allowed_by(self, allowed: Sequence[str]) -> bool:
        """Whether the adapter allow-lists the program, by name or by path."""
        program = self.program
        name = os.path.basename(program)
        where = os.path.realpath(shutil.which(program) or program)
        return any(
            entry in (program, name) or (os.sep in entry and os.path.realpath(entry) == where)
            for entry in allowed
        )

    def describe(self) -> str:
        return f"{self.program} (started by {self.how}: {shlex.join(self.argv)[:200]})"


def describe_guard(outside: list[list[Any]], reports: Path) -> str:
    """The environment value a child's ``sitecustomize`` builds its guard from."""
    return json.dumps(
        {
            "v": DESCRIPTION_VERSION,
            "reports": str(reports),
            "outside": outside,
            "package_root": str(PACKAGE_ROOT),
        }
    )


class ChildEnvironment:
    """``PYTHONPATH`` and the guard's description, set for the check's children, then restored."""

    def __init__(self, description: str) -> None:
        self.description = description
        self._saved: dict[str, str | None] = {}

    def apply(self) -> None:
        self._saved = {name: os.environ.get(name) for name in ("PYTHONPATH", ENVIRONMENT)}
        paths = [str(SITE_DIRECTORY), *filter(None, [self._saved["PYTHONPATH"]])]
        os.environ["PYTHONPATH"] = os.pathsep.join(paths)
        os.environ[ENVIRONMENT] = self.description

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved = {}
