"""Accepted findings: applied once, and never re-filed under another clause."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_stexcel_privacy.report.model import RunReport, merge
from report_reading import read_report
from suites import IMPORTS, suite_class

SUITE = IMPORTS + suite_class("TestCardLogged", "mutants.CardNumberInPaymentLog")


def test_an_accepted_card_finding_is_not_refiled_by_the_lifecycle(
    pytester: pytest.Pytester,
) -> None:
    """The module logs card numbers, and the project accepted that: the lifecycle, which
    sees the card number after ``register(p0); purchase(p0)``, must then pass, not report
    the same hit as a deleted person's data (nobody was deleted)."""
    pytester.makepyfile(test_suite=SUITE)
    pytester.path.joinpath("accepted.toml").write_text(
        '[[accept]]\nclause = "card-data"\nfinding = "erp-files logs/app.log: card_number *"\n'
        'reason = "PAY-9: the payment log is masked in release 5"\nexpires = 2999-01-01\n'
    )
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--privacy-max-examples=2",
        "--privacy-shrink-seconds=1",
        "--privacy-accept=accepted.toml",
        "--privacy-report=out",
        "-k",
        "lifecycle",
    )
    report = json.loads(Path(pytester.path, "out", "report.json").read_text(encoding="utf-8"))
    (finding,) = report["findings"]
    assert finding["status"] == "passed", result.stdout.str()
    assert {(e["location"], e["field"]) for e in finding["accepted"]} == {
        ("logs/app.log", "card_number")
    }


# --- acceptances that matched nothing ---------------------------------------------------

TWO_LEAKS = (
    IMPORTS
    + suite_class("TestLeakyLog", "mutants.LogFileKeepsEmail")
    + suite_class("TestAuditLog", "mutants.AuditLogKeepsPayload")
)

ACCEPTED = """
[[accept]]
clause = "deletion"
finding = "erp-files logs/app.log: *"
reason = "ERP-7: log rotation purges within a day"
expires = 2999-01-01

[[accept]]
clause = "deletion"
finding = "erp-db audit_log.payload: *"
reason = "ERP-8: the audit purge ships in 4.2"
expires = 2999-01-01

[[accept]]
clause = "deletion"
finding = "erp-db notes.body: *"
reason = "ERP-9: fixed long ago"
expires = 2999-01-01
"""
UNUSED = "deletion: 'erp-db notes.body: *' (ERP-9: fixed long ago, until 2999-01-01)"


def test_an_acceptance_that_matched_nothing_is_reported_everywhere(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker runs one leaky module and uses one acceptance; the controller, which
    reports, counts both as used and reports only the third, in every output. An unused
    acceptance is a warning: the run still passes the gate."""
    pytester.makepyfile(test_suite=TWO_LEAKS)
    pytester.path.joinpath("accepted.toml").write_text(ACCEPTED)
    root = Path(__file__).resolve().parents[1]
    paths = [str(root / "examples" / "jewelry_erp"), str(root / "tests")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        "--privacy-max-examples=2",
        "--privacy-shrink-seconds=1",
        "--privacy-accept=accepted.toml",
        "--privacy-report=out",
        "-k",
        "residue",
    )
    out = pytester.path / "out"
    report = read_report(out)
    assert [f["status"] for f in report.findings()] == ["passed", "passed"], report.data
    accepted = {(e["clause"], e["store"]) for f in report.findings() for e in f["accepted"]}
    assert accepted == {("deletion", "erp-files"), ("deletion", "erp-db")}
    assert report.data["unused_acceptances"] == [UNUSED]
    assert report.data["gate"] == "pass"
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"UNUSED ACCEPTANCE: {UNUSED} matched nothing in this run"])
    assert result.stdout.str().count("UNUSED ACCEPTANCE") == 1
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<ul id="unused"><li>deletion: &#39;erp-db notes.body: *&#39;' in html
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert f"### Unused acceptances\n\nMatched nothing in this run:\n\n- {UNUSED}" in markdown


def test_merged_shards_count_an_acceptance_used_on_any_shard() -> None:
    first = RunReport([], unused_acceptances=["a", "b"])
    second = RunReport([], unused_acceptances=["b", "c"])
    assert merge([first, second]).unused_acceptances == ["b"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('finding = "*"\nexpires = 2999-01-01', "*#1: finding '*' names nothing*"),
        ('finding = "?*"\nexpires = 2999-01-01', "*#1: finding '?*' names nothing*"),
        ('finding = "*.*"\nexpires = 2999-01-01', "*#1: finding '*.*' names nothing*"),
        ('finding = "*: * as *"\nexpires = 2999-01-01', "*#1: finding '*: * as *' names*"),
        ('finding = "erp-db audit_log.payload: *"', "*#1: 'expires' is required*"),
    ],
)
def test_an_acceptance_of_anything_or_forever_is_a_usage_error(
    pytester: pytest.Pytester, entry: str, message: str
) -> None:
    pytester.path.joinpath("accepted.toml").write_text(
        f'[[accept]]\nclause = "deletion"\nreason = "r"\n{entry}\n'
    )
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--privacy-accept=accepted.toml"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*accepted.toml ??accept?? {message}"])
