"""``stexcel-privacy``: merge CI shards' JSON reports and render HTML/Markdown from JSON.

Runs without pytest: a CI job that collects ``report.json`` from several
shards turns them into one report, and can gate the merge on it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .report.model import ReportFormatError, RunReport, merge
from .report.writer import ReportDirectoryError, prepare_directory, write_reports


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stexcel-privacy",
        description="Merge and render pytest-stexcel-privacy JSON reports.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("merge", "merge the reports of CI shards into one"),
        ("render", "write report.html and report.md (and report.json) from one report"),
    ):
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument(
            "reports", nargs="+" if name == "merge" else 1, type=Path, metavar="REPORT.json"
        )
        command.add_argument(
            "-o", "--output", type=Path, required=True, metavar="DIR", help="directory to write"
        )
        command.add_argument(
            "--gate",
            action="store_true",
            help="exit 1 when the result fails the privacy gate (failed or errored clause, "
            "incomplete run, expired acceptance)",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        reports = [RunReport.load(path) for path in args.reports]
        report = merge(reports) if args.command == "merge" else reports[0]
        prepare_directory(args.output)
        written = write_reports(report, args.output)
    except (ReportFormatError, ReportDirectoryError) as exc:
        print(f"stexcel-privacy: error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    verdict = "fails" if report.gate_failed else "passes"
    print(f"{len(report.findings)} checks; this report {verdict} the privacy gate")
    return 1 if args.gate and report.gate_failed else 0
