"""The short Markdown summary: fits a PR comment and ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

import re

from ..findings.statistics import Finding
from ..findings.visible import visible
from .coverage import coverage_lines, not_applicable, plain_summary, shows_coverage, test_name
from .model import RunReport

ICONS = {
    "failed": "❌",
    "error": "⚠️",
    "passed": "✅",
    "not applicable": "⚪",
    "not tested": "⬜",
}
MAX_LINES_PER_FINDING = 5
# "&amp;", "&#62;": text Markdown would show as the character; escaped to show as written
ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def render_markdown(report: RunReport) -> str:
    lines = ["## Stexcel privacy policy", ""]
    if not report.complete:
        reasons = "; ".join(report.incomplete_reasons) or "the run stopped early"
        lines += [f"> **Incomplete report**: {_cell(reasons)}", ""]
    verdict = "fails" if report.gate_failed else "passes"
    lines += [f"**This run {verdict} the privacy gate.**", ""]
    lines += ["| clause | policy section | status | checks |", "| --- | --- | --- | --- |"]
    grouped = report.by_clause()  # failures first
    for clause, findings in grouped:
        counts = ", ".join(f"{n} {status}" for status, n in clause.counts.items()) or "none ran"
        skipped = "; ".join(f"`{test}`: {_cell(why)}" for test, why in not_applicable(findings))
        counts += f" (not applicable: {skipped})" if skipped else ""
        lines.append(
            f"| `{clause.id}` | {clause.section} | {ICONS[clause.status.value]} "
            f"{clause.status.value} | {counts} |"
        )
    lines += ["", "### Checks by clause"]
    for clause, findings in grouped:
        if not findings:
            continue
        lines += ["", f"#### {ICONS[clause.status.value]} `{clause.id}` {clause.status.value}", ""]
        for finding in findings:
            lines += _finding(finding)
    if report.expired_acceptances:
        lines += ["", "### Expired acceptances", ""]
        lines += [f"- {_cell(a)}" for a in report.expired_acceptances]
    if report.unused_acceptances:
        lines += ["", "### Unused acceptances", "", "Matched nothing in this run:", ""]
        lines += [f"- {_cell(a)}" for a in report.unused_acceptances]
    if report.comparison is not None:
        c = report.comparison
        lines += [
            "",
            f"Against baseline `{_code(c.baseline)}`: {len(c.new)} new, {len(c.fixed)} fixed, "
            f"{len(c.unchanged)} unchanged.",
        ]
        lines += [f"- new: `{_code(key)}`" for key in c.new[:20]]
        lines += [f"- fixed: `{_code(key)}`" for key in c.fixed[:20]]
    return "\n".join(lines) + "\n"


def _finding(finding: Finding) -> list[str]:
    """A check as a list item: its status and summary, evidence if it failed, what it covered."""
    test = test_name(finding)
    summary = plain_summary(finding.summary)
    status = finding.status.value
    lines = [f"- {ICONS[status]} `{test}` {status}" + (f": {_cell(summary)}" if summary else "")]
    if status in ("failed", "error"):
        for item in finding.evidence[:MAX_LINES_PER_FINDING]:
            lines.append(f"  - `{_code(item.text)}`")
        hidden = len(finding.evidence) - MAX_LINES_PER_FINDING
        if hidden > 0:
            lines.append(f"  - … and {hidden} more in the HTML report")
    covered = coverage_lines(finding.statistics) if shows_coverage(finding) else []
    if covered:
        lines.append(f"  - covered: {_cell('; '.join(covered))}")
    return lines


def _cell(text: str) -> str:
    """Plain text safe inside a Markdown table or list item: no HTML tag can open, no
    entity is decoded, no pipe ends a cell; arrows and ampersands stay as they are."""
    return ENTITY.sub(
        r"\\\g<0>",
        visible(text).replace("<", "\\<").replace("|", "\\|"),
    ).replace("\n", " ")


def _code(text: str) -> str:
    return visible(text).replace("`", "'")
