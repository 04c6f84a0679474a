"""The self-contained HTML report: no network assets, readable without JavaScript.

Rendered with Jinja2's autoescaping, so a value found in a store (which may
hold ``<script>`` or quotes) is shown as text. The whole JSON report is
embedded too, escaped for a script data block, for tools that scrape it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from ..findings.visible import json_visible, visible
from .coverage import coverage_lines, not_applicable, plain_summary, shows_coverage
from .model import TOOL, RunReport

if TYPE_CHECKING:
    import jinja2


@cache
def _page_template() -> jinja2.Template:
    """The page's template, compiled once a process: compiling it took 12 to 14 ms, ten
    times the rendering, paid by every report a process wrote (the project's own tests
    write about 150 in-process; ``benchmarks/report_page.py``)."""
    import jinja2  # only a run that writes HTML pays for it

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pytest_stexcel_privacy.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("report.html.j2")


def render_html(report: RunReport) -> str:
    data = report.to_dict()
    shown = _visible(data)  # the page shows control characters as escapes; the JSON is data
    clauses = {c["id"]: c for c in shown["clauses"]}
    findings = {id(f): d for f, d in zip(report.findings, shown["findings"], strict=True)}
    for finding, shown_finding in zip(report.findings, shown["findings"], strict=True):
        shown_finding["summary"] = plain_summary(shown_finding["summary"])
        covers = shows_coverage(finding)
        shown_finding["covered"] = coverage_lines(shown_finding["statistics"]) if covers else []
    groups = [  # failures first, as the model orders them
        {
            "clause": clauses[clause.id],
            "findings": [findings[id(f)] for f in checks],
            "not_applicable": [
                (visible(test), visible(why)) for test, why in not_applicable(checks)
            ],
        }
        for clause, checks in report.by_clause()
    ]
    return _page_template().render(
        **{k: v for k, v in shown.items() if k != "tool"},
        groups=groups,
        tool=TOOL,
        version=data["tool"]["version"],
        verdict="fails" if data["gate"] == "fail" else "passes",
        data_json=_script_safe_json(data),
    )


def _visible(data: Any) -> Any:
    if isinstance(data, str):
        return visible(data, keep_lines=True)
    if isinstance(data, dict):
        return {key: _visible(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_visible(item) for item in data]
    return data


def _script_safe_json(data: object) -> str:
    """JSON that cannot close its <script> element or open a comment inside it.

    Marked safe for Jinja2, which would otherwise HTML-escape the quotes: the
    replacements leave no character that means anything to the HTML parser.
    """
    from markupsafe import Markup

    text = json_visible(json.dumps(data, ensure_ascii=False))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
