"""Writing the report files, and checking early that they can be written."""

from __future__ import annotations

import os
from pathlib import Path

from .model import RunReport

FILES = ("report.json", "report.html", "report.md")


class ReportDirectoryError(OSError):
    pass


def _unwritable(directory: Path, exc: OSError) -> ReportDirectoryError:
    return ReportDirectoryError(
        f"the privacy report directory {str(directory)!r} cannot be written: {exc.strerror or exc}"
    )


def prepare_directory(directory: Path) -> None:
    """Create the directory and prove it is writable, at start-up rather than after the run."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".stexcel-privacy-write-test"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise _unwritable(directory, exc) from None


def write_reports(report: RunReport, directory: Path) -> list[Path]:
    """Write JSON, HTML and Markdown; each file is replaced whole, never left half-written.

    Raises ReportDirectoryError (one line: the directory and the OS error) when
    the directory cannot be written.
    """
    from .html import render_html
    from .markdown import render_markdown

    contents = {
        "report.json": report.to_json(),
        "report.html": render_html(report),
        "report.md": render_markdown(report),
    }
    written = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in contents.items():
            path = directory / name
            temporary = path.with_name(f".{name}.tmp")
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, path)
            written.append(path)
    except OSError as exc:  # the directory became unwritable, or vanished, during the run
        raise _unwritable(directory, exc) from None
    return written


def append_step_summary(report: RunReport) -> Path | None:
    """Add the Markdown summary to GitHub's job summary when running there."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    from .markdown import render_markdown

    try:
        with open(target, "a", encoding="utf-8") as summary:
            summary.write(render_markdown(report) + "\n")
    except OSError as exc:
        raise ReportDirectoryError(
            f"the job summary GITHUB_STEP_SUMMARY={target!r} cannot be written: "
            f"{exc.strerror or exc}"
        ) from None
    return Path(target)
