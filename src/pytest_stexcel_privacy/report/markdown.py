"""The short Markdown summary: fits a PR comment and ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

from ..findings.visible import visible
from .model import RunReport

ICONS = {
    "failed": "❌",
    "error": "⚠️",
    "passed": "✅",
    "not applicable": "⚪",
    "not tested": "⬜",
}
MAX_LINES_PER_FINDING = 5


def render_markdown(report: RunReport) -> str:
    lines = ["## Stexcel privacy policy", ""]
    if not report.complete:
        reasons = "; ".join(report.incomplete_reasons) or "the run stopped early"
        lines += [f"> **Incomplete report**: {_cell(reasons)}", ""]
    verdict = "fails" if report.gate_failed else "passes"
    lines += [f"**This run {verdict} the privacy gate.**", ""]
    lines += ["| clause | policy section | status | checks |", "| --- | --- | --- | --- |"]
    for clause in report.clauses:
        counts = ", ".join(f"{n} {status}" for status, n in clause.counts.items()) or "none ran"
        lines.append(
            f"| `{clause.id}` | {clause.section} | {ICONS[clause.status.value]} "
            f"{clause.status.value} | {counts} |"
        )
    problems = [f for f in report.findings if f.status.value in ("failed", "error")]
    if problems:
        lines += ["", "### Findings", ""]
        for finding in problems:
            test = finding.nodeid.rsplit("::", 1)[-1]
            lines.append(f"- **`{finding.clause}`** `{test}`: {_cell(finding.summary)}")
            for item in finding.evidence[:MAX_LINES_PER_FINDING]:
                lines.append(f"  - `{_code(item.text)}`")
            hidden = len(finding.evidence) - MAX_LINES_PER_FINDING
            if hidden > 0:
                lines.append(f"  - … and {hidden} more in the HTML report")
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


def _cell(text: str) -> str:
    """Plain text safe inside a Markdown table or list item (no HTML, no pipes)."""
    return (
        visible(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\n", " ")
    )


def _code(text: str) -> str:
    return visible(text).replace("`", "'")
