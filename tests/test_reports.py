"""The reports: what a reviewer reads and CI gates on, in a plain run and under xdist."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_stexcel_privacy.findings.evidence import Evidence
from pytest_stexcel_privacy.findings.outcomes import Status
from pytest_stexcel_privacy.findings.statistics import Finding
from pytest_stexcel_privacy.harness.recording import _describe_error
from pytest_stexcel_privacy.profiles import profile_settings
from pytest_stexcel_privacy.report.collector import SECTION
from pytest_stexcel_privacy.report.html import render_html
from pytest_stexcel_privacy.report.markdown import render_markdown
from pytest_stexcel_privacy.report.model import SCHEMA_VERSION, RunReport, merge
from pytest_stexcel_privacy.report.schema import load_schema
from report_reading import read_report, suite_checks

ROOT = Path(__file__).resolve().parents[1]

# Under CI=true hypothesis loads its "ci" profile, which derandomizes, and the privacy
# profiles inherit that: a derandomized search draws from no seed, so none is recorded.
DERANDOMIZED = profile_settings(None).derandomize

SUITE = """
import pytest
from privacy_adapter import on_sinks
from pytest_stexcel_privacy import PrivacySuite
import mutants


class TestReference(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, processor_sink, mail_sink, s3_server):
        yield from on_sinks(tmp_path, processor_sink, mail_sink, s3_server)


class TestLeakyLog(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, processor_sink, mail_sink, s3_server):
        yield from on_sinks(
            tmp_path, processor_sink, mail_sink, s3_server, service_class=mutants.LogFileKeepsEmail
        )
"""

FAST = (
    "-p",
    "no:cacheprovider",
    "--privacy-max-examples=3",
    "--privacy-shrink-seconds=1",
    "--privacy-clauses=deletion*",
    "-k",
    "not lifecycle",  # its own tests show it; here it would only add minutes
)
# FAST runs these checks in each of SUITE's two classes; the leaky one fails one check.
FAST_CHECKS = suite_checks("deletion*", excluding="lifecycle")
FAST_FINDINGS = 2 * len(FAST_CHECKS)


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makepyfile(test_suite=SUITE)
    paths = [str(ROOT / "examples" / "jewelry_erp"), str(ROOT / "tests")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    return pytester


def read_json(directory: Path) -> dict[str, Any]:
    return read_report(directory).data


def without_timings(data: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(json.dumps(data))
    for key in ("started", "finished", "duration"):
        data["run"].pop(key)
    for finding in data["findings"]:
        finding.pop("duration")
    return data


def test_report_files_are_written_and_valid(suite: pytest.Pytester) -> None:
    result = suite.runpytest_inprocess(*FAST, "--privacy-report=out")
    result.assert_outcomes(passed=FAST_FINDINGS - 1, failed=1)
    out = suite.path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md"]
    report = read_report(out)
    data = report.data
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["gate"] == "fail"
    assert report.tested_clauses() == {
        "deletion": "failed",
        "deletion-processors": "passed",
        "deletion-exceptions": "passed",
    }
    failed = [f for f in data["findings"] if f["status"] == "failed"]
    assert [f["nodeid"] for f in failed] == [
        "test_suite.py::TestLeakyLog::test_deletion_leaves_no_residue"
    ]
    evidence = failed[0]["evidence"]
    assert {(e["store"], e["location"], e["field"]) for e in evidence} >= {
        ("erp-files", "logs/app.log", "email")
    }
    assert failed[0]["example"].startswith("fixed scenario DeletionScenario(")
    assert failed[0]["statistics"]["fixed_examples"] == 1
    passed = next(
        f
        for f in data["findings"]
        if f["nodeid"].endswith("Reference::test_retentions_cover_only_what_they_name")
    )
    assert passed["retentions"]  # the reference relies on its invoice retention
    assert passed["statistics"]["generated_examples"] >= 1
    # what the pass covered: every store its scans read, how much, in which forms, the seed
    covered = passed["statistics"]
    assert {name: entry["kind"] for name, entry in covered["stores"].items()} == {
        "erp-db": "sql",
        "erp-files": "files",
        "erp-attachments": "s3",
    }
    database = covered["stores"]["erp-db"]
    assert "customers" in database["locations"]
    assert database["location_count"] >= len(database["locations"]) > 1
    assert database["values"] > 0
    assert database["bytes"] > 0
    assert covered["scans"] >= 2
    assert {"exact", "digits", "sha256", "base64", "canary"} <= set(covered["needle_forms"])
    assert covered["persons_searched"] >= 2
    assert covered["adapter_calls"]["delete"] >= 1
    if DERANDOMIZED:
        assert covered["hypothesis_seeds"] == []  # a derandomized search has no seed
    else:
        [seed] = covered["hypothesis_seeds"]  # hypothesis drew it: no --hypothesis-seed
        assert seed.isdigit()
    # the terminal summary shows every clause of the report, in its order, with its status
    result.stdout.re_match_lines(
        [rf"{re.escape(c['id'])} +{c['status'].upper()} " for c in data["clauses"]],
        consecutive=True,
    )
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "**This run fails the privacy gate.**" in markdown
    assert "| `deletion` | Right to Deletion | ❌ failed | 1 failed, 1 passed |" in markdown
    assert f"privacy report: {out / 'report.html'}" in result.stdout.str()


def test_values_are_masked_unless_unmasking_is_asked_for(suite: pytest.Pytester) -> None:
    suite.runpytest_inprocess(*FAST, "--privacy-report=masked", "-k", "LeakyLog and residue")
    masked = read_json(suite.path / "masked")["findings"][0]["evidence"]
    suite.runpytest_inprocess(
        *FAST, "--privacy-report=plain", "--privacy-unmask", "-k", "LeakyLog and residue"
    )
    plain = read_json(suite.path / "plain")["findings"][0]["evidence"]
    email = next(e["value"] for e in masked if e["field"] == "email")
    assert "*" in email
    assert "@" not in email
    assert any(e["field"] == "email" and "@example.com" in e["value"] for e in plain)


def test_xdist_run_reports_the_same_as_a_plain_run(suite: pytest.Pytester) -> None:
    plain = suite.runpytest_subprocess(
        *FAST, "--hypothesis-seed=7", "--privacy-report=n0", "-n", "0"
    )
    plain.assert_outcomes(passed=FAST_FINDINGS - 1, failed=1)
    spread = suite.runpytest_subprocess(
        *FAST, "--hypothesis-seed=7", "--privacy-report=n2", "-n", "2"
    )
    spread.assert_outcomes(passed=FAST_FINDINGS - 1, failed=1)
    n0, n2 = read_json(suite.path / "n0"), read_json(suite.path / "n2")
    assert without_timings(n0) == without_timings(n2)
    assert n0["run"]["hypothesis_seed"] == "7"
    searched = [f for f in n0["findings"] if f["statistics"]["generated_examples"]]
    assert searched
    seeds = [] if DERANDOMIZED else ["7"]
    assert all(f["statistics"]["hypothesis_seeds"] == seeds for f in searched)
    assert len(n0["findings"]) == FAST_FINDINGS
    assert spread.stdout.str().count(SECTION) == 1  # the controller alone reports


def test_unwritable_report_directory_fails_at_start_up(suite: pytest.Pytester) -> None:
    (suite.path / "taken").write_text("a file, not a directory")
    result = suite.runpytest_inprocess(*FAST, "--privacy-report=taken/reports")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--privacy-report: the privacy report directory*taken/reports*"])
    result.stdout.no_fnmatch_line("*collected*")


def test_baseline_shows_new_fixed_and_unchanged(suite: pytest.Pytester) -> None:
    suite.runpytest_inprocess(*FAST, "--privacy-report=before", "-k", "LeakyLog and residue")
    old = read_json(suite.path / "before")
    # Pretend the old run also had a finding that is gone now.
    old["findings"][0]["evidence"].append(
        {
            "text": "erp-db notes.body [id=1]: email as exact",
            "store": "erp-db",
            "location": "notes.body",
            "locator": "id=1",
            "field": "email",
            "form": "exact",
        }
    )
    (suite.path / "old.json").write_text(json.dumps(old))
    result = suite.runpytest_inprocess(
        *FAST, "--privacy-report=after", "--privacy-baseline=old.json", "-k", "residue"
    )
    comparison = read_json(suite.path / "after")["comparison"]
    assert comparison["new"] == []
    assert comparison["fixed"] == ["deletion | erp-db notes.body: email as exact"]
    assert "deletion | erp-files logs/app.log: email as exact" in comparison["unchanged"]
    result.stdout.fnmatch_lines(["against baseline *old.json: 0 new, 1 fixed, * unchanged"])


def test_baseline_of_another_schema_version_is_refused(suite: pytest.Pytester) -> None:
    (suite.path / "old.json").write_text(json.dumps({"schema_version": 99, "findings": []}))
    result = suite.runpytest_inprocess(*FAST, "--privacy-baseline=old.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*old.json* has schema version 99*reads version 2 only*"])


def test_accepted_finding_passes_and_expired_acceptance_fails_the_run(
    suite: pytest.Pytester,
) -> None:
    suite.path.joinpath("accepted.toml").write_text(
        '[[accept]]\nclause = "deletion"\nfinding = "erp-files logs/app.log: *"\n'
        'reason = "ERP-7: log rotation purges within a day"\nexpires = 2999-01-01\n'
    )
    result = suite.runpytest_inprocess(
        *FAST, "--privacy-accept=accepted.toml", "--privacy-report=ok", "-k", "LeakyLog and residue"
    )
    result.assert_outcomes(passed=1)
    finding = read_json(suite.path / "ok")["findings"][0]
    assert finding["status"] == "passed"
    assert {e["location"] for e in finding["accepted"]} == {"logs/app.log"}

    suite.path.joinpath("expired.toml").write_text(
        '[[accept]]\nclause = "deletion"\nfinding = "nothing matches this"\n'
        'reason = "an old exception"\nexpires = 2020-01-01\n'
    )
    result = suite.runpytest_inprocess(
        *FAST, "--privacy-accept=expired.toml", "-k", "Reference and residue"
    )
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["EXPIRED ACCEPTANCE: deletion: 'nothing matches this'*2020-01-01*"]
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[accept]]\nclause = "deletion"\nfinding = "x"\n', "*#1: 'reason' is required*"),
        ('[[accept]]\nclause = "nope"\nfinding = "x"\nreason = "r"\n', "*clause 'nope' is not*"),
        ("not toml [", "*accepted.toml*"),
    ],
)
def test_bad_acceptance_file_is_a_usage_error(
    suite: pytest.Pytester, content: str, message: str
) -> None:
    suite.path.joinpath("accepted.toml").write_text(content)
    result = suite.runpytest_inprocess("--privacy-accept=accepted.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_interrupted_run_writes_an_incomplete_report(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_zz_interrupt="def test_ctrl_c():\n    raise KeyboardInterrupt\n")
    # In a subprocess: an in-process KeyboardInterrupt would stop this session too.
    result = suite.runpytest_subprocess(*FAST, "--privacy-report=out", "-k", "residue or ctrl_c")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    data = read_json(suite.path / "out")
    assert data["run"]["complete"] is False
    assert data["gate"] == "fail"
    assert "Incomplete report" in (suite.path / "out" / "report.html").read_text()


def test_crashed_worker_marks_the_report_incomplete(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_zz_crash="import os\n\ndef test_crash():\n    os._exit(3)\n")
    result = suite.runpytest_subprocess(
        *FAST, "--privacy-report=out", "-n", "2", "-k", "Reference and residue or crash"
    )
    assert result.ret != pytest.ExitCode.OK
    data = read_json(suite.path / "out")
    assert data["run"]["complete"] is False
    assert any("crashed" in reason for reason in data["run"]["incomplete_reasons"])


def test_step_summary_is_appended_on_github(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = suite.path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    suite.runpytest_inprocess(*FAST, "--privacy-report=out", "-k", "Reference and residue")
    text = summary.read_text()
    assert text.startswith("earlier step\n## Stexcel privacy policy")


def test_an_unwritable_step_summary_is_a_clear_error(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not an INTERNALERROR: the reports are written, the run says what it could not do."""
    summary = suite.path / "no-such-dir" / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = suite.runpytest_inprocess(*FAST, "--privacy-report=out", "-k", "Reference and residue")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["ERROR: the job summary GITHUB_STEP_SUMMARY=*cannot be written*"])
    assert "INTERNALERROR" not in result.stdout.str()
    assert (suite.path / "out" / "report.json").is_file()


def test_report_round_trips_through_json(suite: pytest.Pytester) -> None:
    suite.runpytest_inprocess(*FAST, "--privacy-report=out", "-k", "residue")
    data = read_json(suite.path / "out")
    assert RunReport.from_dict(data).to_dict() | {"tool": None} == data | {"tool": None}


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_stexcel_privacy", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_merges_shards_and_gates(suite: pytest.Pytester) -> None:
    suite.runpytest_inprocess(*FAST, "--privacy-report=shard1", "-k", "Reference and not lifecycle")
    suite.runpytest_inprocess(*FAST, "--privacy-report=shard2", "-k", "LeakyLog and not lifecycle")
    merged = suite.path / "merged"
    done = run_cli(
        "merge", suite.path / "shard1/report.json", suite.path / "shard2/report.json", "-o", merged
    )
    assert done.returncode == 0, done.stderr
    assert f"{FAST_FINDINGS} checks; this report fails the privacy gate" in done.stdout
    data = read_json(merged)
    assert len(data["findings"]) == FAST_FINDINGS
    assert {c["id"]: c["status"] for c in data["clauses"]}["deletion"] == "failed"
    assert (merged / "report.html").is_file()
    gated = run_cli("merge", suite.path / "shard1/report.json", "-o", merged, "--gate")
    assert gated.returncode == 0  # the reference shard alone passes
    gated = run_cli("render", suite.path / "shard2/report.json", "-o", merged, "--gate")
    assert gated.returncode == 1


def test_cli_refuses_another_schema_version(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"schema_version": 0, "findings": []}))
    done = run_cli("render", old, "-o", tmp_path / "out")
    assert done.returncode == 2
    assert "has schema version 0" in done.stderr
    assert not (tmp_path / "out").exists()


def test_sigterm_writes_an_incomplete_report(suite: pytest.Pytester) -> None:
    """A CI job's timeout sends SIGTERM: the report is still written, marked incomplete."""
    suite.makepyfile(
        test_zz_term=(
            "import os, signal\n\ndef test_term():\n    os.kill(os.getpid(), signal.SIGTERM)\n"
        )
    )
    result = suite.runpytest_subprocess(*FAST, "--privacy-report=out", "-k", "residue or term")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    data = read_json(suite.path / "out")
    assert data["run"]["complete"] is False
    assert any("SIGTERM" in reason for reason in data["run"]["incomplete_reasons"])


def test_check_whose_worker_crashed_is_an_error(suite: pytest.Pytester) -> None:
    """A worker killed in the middle of a check leaves that check ERROR, never passed."""
    suite.makeconftest(
        "import os\n\n"
        "def pytest_runtest_call(item):\n"
        "    if 'Reference' in item.nodeid and 'residue' in item.nodeid:\n"
        "        os._exit(9)\n"
    )
    result = suite.runpytest_subprocess(
        *FAST, "--privacy-report=out", "-n", "2", "-k", "Reference and residue"
    )
    assert result.ret != pytest.ExitCode.OK
    data = read_json(suite.path / "out")
    crashed = [f for f in data["findings"] if "Reference" in f["nodeid"]]
    assert crashed, data["findings"]
    assert all(f["status"] == "error" for f in crashed)
    assert all("crashed" in f["summary"] for f in crashed)
    assert {c["id"]: c["status"] for c in data["clauses"]}["deletion"] == "error"


SKIPPING_SUITE = """
import pytest
from privacy_adapter import JewelryAdapter, on_sinks
from pytest_stexcel_privacy import PrivacySuite


class SkipsOnDelete(JewelryAdapter):
    def delete(self, account):
        pytest.skip("deletion is not wired up in this environment")


class TestReference(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, processor_sink, mail_sink, s3_server):
        yield from on_sinks(tmp_path, processor_sink, mail_sink, s3_server)


class TestFixtureSkips(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self):
        pytest.skip("no adapter in this environment")


class TestMethodSkips(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, processor_sink, mail_sink, s3_server):
        yield from on_sinks(
            tmp_path, processor_sink, mail_sink, s3_server, adapter_class=SkipsOnDelete
        )
"""


@pytest.mark.parametrize("skipping", ["FixtureSkips", "MethodSkips"])
def test_a_skipped_check_fails_the_gate(suite: pytest.Pytester, skipping: str) -> None:
    """pytest.skip in the adapter fixture or an adapter method is a check that did not run."""
    suite.makepyfile(test_suite=SKIPPING_SUITE)
    result = suite.runpytest(*FAST, "--privacy-report=out", "-k", f"{skipping} and residue")
    assert result.ret != pytest.ExitCode.OK
    data = read_json(suite.path / "out")
    assert {c["id"]: c["status"] for c in data["clauses"]}["deletion"] == "error"
    assert data["gate"] == "fail"
    [skipped] = data["findings"]
    assert skipped["status"] == "error"
    assert skipped["summary"].startswith("skipped: ")
    assert "--privacy-clauses" in skipped["summary"]


def test_a_deselected_check_is_not_in_the_report(suite: pytest.Pytester) -> None:
    """-k deselection never runs a check: silent, and no finding for it."""
    suite.makepyfile(test_suite=SKIPPING_SUITE)
    result = suite.runpytest(*FAST, "--privacy-report=out", "-k", "Reference and residue")
    data = read_json(suite.path / "out")
    [finding] = data["findings"]
    assert "Reference" in finding["nodeid"]
    assert finding["status"] == "passed"
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]


def test_report_directory_that_becomes_unwritable_is_a_clean_error(suite: pytest.Pytester) -> None:
    """The clause table is still printed, then one line naming the directory and the error."""
    suite.makepyfile(
        test_zz_break=(
            "import pathlib, shutil\n\n"
            "def test_replace_the_report_directory_with_a_file():\n"
            "    shutil.rmtree('out')\n"
            "    pathlib.Path('out').write_text('not a directory')\n"
        )
    )
    result = suite.runpytest_subprocess(
        *FAST, "--privacy-report=out", "-k", "Reference and residue or replace"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str()
    assert "INTERNALERROR" not in output + result.stderr.str()
    assert SECTION in output
    [error] = [line for line in result.stdout.lines if line.startswith("ERROR: ")]
    assert "/out' cannot be written" in error
    assert "cannot be written" in error


HOSTILE_NAME_SUITE = """
import pytest
from privacy_adapter import JewelryAdapter, on_sinks
from pytest_stexcel_privacy import PrivacySuite


class KeepsACopyUnderAHostileName(JewelryAdapter):
    def register(self, person):
        with open(self.files_root / "copy\\x1b[31m\\u202etxt.csv", "a") as copy:
            copy.write(person.email + "\\n")
        return super().register(person)


class TestHostile(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, processor_sink, mail_sink, s3_server):
        yield from on_sinks(
            tmp_path, processor_sink, mail_sink, s3_server,
            adapter_class=KeepsACopyUnderAHostileName,
        )
"""


def test_control_characters_in_names_are_shown_escaped(suite: pytest.Pytester) -> None:
    """ANSI escapes and bidi controls in a file name never reach an output raw."""
    suite.makepyfile(test_suite=HOSTILE_NAME_SUITE)
    result = suite.runpytest_subprocess(*FAST, "--privacy-report=out", "-k", "residue")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outputs = {
        "terminal": result.stdout.str(),
        "report.md": (suite.path / "out" / "report.md").read_text(encoding="utf-8"),
        "report.html": (suite.path / "out" / "report.html").read_text(encoding="utf-8"),
    }
    for name, text in outputs.items():
        assert "copy\\x1b[31m\\u202etxt.csv" in text, name
        assert "copy\x1b" not in text, name
        assert "\u202e" not in text, name


# --- what a check covered (issue 20 item 6) --------------------------------------------------

NO_PROVIDERS_SUITE = """
import pytest
from privacy_adapter import JewelryAdapter, on_sinks
from pytest_stexcel_privacy import PrivacySuite


class NoProviders(JewelryAdapter):
    processors = None  # the optional capability left out


class TestNoProviders(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, processor_sink, mail_sink, s3_server):
        yield from on_sinks(
            tmp_path, processor_sink, mail_sink, s3_server, adapter_class=NoProviders
        )
"""


def test_a_not_applicable_check_is_named_with_its_reason(suite: pytest.Pytester) -> None:
    """The clause line says which check was not applicable and why: terminal and reports."""
    suite.makepyfile(test_suite=NO_PROVIDERS_SUITE)
    result = suite.runpytest_inprocess(*FAST, "--privacy-report=out", "-k", "processors or residue")
    check = "TestNoProviders::test_deletion_reaches_processors"
    result.stdout.re_match_lines(
        [
            r"deletion-processors +NOT APPLICABLE .*\(1 not applicable\)",
            rf"    not applicable: {check}: NoProviders does not implement processors\(\)",
        ],
        consecutive=True,
    )
    markdown = (suite.path / "out" / "report.md").read_text(encoding="utf-8")
    assert f"1 not applicable (not applicable: `{check}`: NoProviders does not implement" in (
        markdown
    )
    html = (suite.path / "out" / "report.html").read_text(encoding="utf-8")
    assert f"not applicable: <code>{check}</code>: NoProviders does not implement" in html


def coverage_report() -> RunReport:
    """A passing example-based check, a failing check, a check that is not example-based
    and a not-applicable one, in the policy's clause order."""
    scanned = {
        "fixed_examples": 1,
        "generated_examples": 4,
        "scans": 10,
        "stores": {
            "erp-db": {"kind": "sql", "scans": 10, "locations": ["customers", "audit_log"],
                       "location_count": 2, "values": 1200, "bytes": 250_000},
            "cache": {"kind": "redis", "scans": 10, "locations": ["session:1"],
                      "location_count": 1, "values": 30, "bytes": 900},
        },
        "needle_forms": ["exact", "digits", "sha256", "base64"],
        "persons_searched": 3,
        "adapter_calls": {"stores": 1, "register": 5, "delete": 5},
        "hypothesis_seeds": ["1234567"],
    }  # fmt: skip
    return RunReport(
        findings=[
            Finding("s.py::T::test_deletion_leaves_no_residue", "deletion", Status.PASSED,
                    statistics=scanned),
            Finding("s.py::T::test_retentions_cover_only_what_they_name", "deletion-exceptions",
                    Status.NOT_APPLICABLE, "not applicable: Shop.retentions() declares none",
                    statistics={"adapter_calls": {"stores": 1, "retentions": 1}}),
            Finding("s.py::T::test_stores_are_in_the_us", "us-storage", Status.PASSED,
                    statistics={"fixed_examples": 0, "generated_examples": 0,
                                "checked": {"store region": 3, "provider region": 1}}),
            Finding("s.py::T::test_card_number_does_not_outlive_the_purchase", "card-data",
                    Status.FAILED, "Failed: the card went a -> b & <stayed>",
                    [Evidence("erp-db payments.card [id=1]: card_number as digits '41**11'")],
                    statistics=scanned),
        ]
    )  # fmt: skip


def test_every_check_shows_what_it_covered() -> None:
    report = coverage_report()
    markdown = render_markdown(report)
    html = render_html(report)
    for text in (markdown, html):
        assert "Examples: 1 fixed, 4 generated" in text
        assert (
            "Scanned 2 stores 10 times: erp-db (sql): 2 tables, 1,200 values (250.0 kB) read"
            in (text)
        )
        assert "cache (redis): 1 key, 30 values (900 B) read" in text
        assert "Searched 4 value forms of up to 3 persons: exact, digits, sha256, base64" in text
        assert "register() 5 times, delete() 5 times" in text
        assert "Hypothesis seed 1234567" in text
    assert "erp-db: customers, audit_log" in html  # the tables read, by name


def test_a_check_without_examples_says_what_it_did_instead() -> None:
    report = coverage_report()
    for text in (render_markdown(report), render_html(report)):
        assert "Checked 3 store regions, 1 provider region" in text
        assert "0 fixed" not in text
        assert "declares none" in text  # the not-applicable one gives its reason instead


def test_checks_are_grouped_by_clause_failures_first() -> None:
    report = coverage_report()
    markdown = render_markdown(report)
    rows = [line.split("|")[1].strip() for line in markdown.splitlines() if line.startswith("| `")]
    assert rows[0] == "`card-data`"  # failed, though last in the policy
    assert rows.index("`deletion`") < rows.index("`deletion-exceptions`")  # passed, then n/a
    headings = re.findall(r"^#### \S+ `([a-z-]+)`", markdown, re.MULTILINE)
    assert headings == ["card-data", "deletion", "us-storage", "deletion-exceptions"]
    html = render_html(report)
    sections = re.findall(r'<section class="clause" data-clause="([a-z-]+)"', html)
    assert sections == headings


def test_markdown_shows_text_as_written_without_pytest_prefixes() -> None:
    markdown = render_markdown(coverage_report())
    assert "the card went a -> b & \\<stayed>" in markdown
    assert "&gt;" not in markdown
    assert "&amp;" not in markdown
    assert "Failed: " not in markdown
    page = render_html(coverage_report()).split('<script type="application/json"')[0]
    assert "Failed: " not in page
    assert "the card went a -&gt; b &amp; &lt;stayed&gt;" in page  # HTML escapes, as HTML must


def test_a_failed_setup_is_summarised_without_pytest_prefix() -> None:
    finding = Finding("s.py::T::test_x", "deletion", Status.NOT_TESTED)
    try:
        pytest.fail("AdapterContractError: Shop.stores() returned no stores", pytrace=False)
    except pytest.fail.Exception as failed:
        _describe_error(finding, failed)
    assert finding.summary == "AdapterContractError: Shop.stores() returned no stores"


def test_merged_shards_keep_every_finding_a_check_filed_under_a_clause() -> None:
    """A check that filed two findings under one clause (two examples showed it) keeps
    both in the merged report; the same check run on another shard too adds nothing."""
    fixed = Finding("s.py::T::test_x", "children", Status.FAILED, example="fixed sequence: a")
    found = Finding("s.py::T::test_x", "children", Status.FAILED, example="generated: b")
    passed = Finding("s.py::T::test_x", "children", Status.PASSED)
    other = Finding("s.py::T::test_y", "children", Status.PASSED)
    for shards in ([[fixed, found], [passed, other]], [[passed, other], [fixed, found]]):
        merged = merge([RunReport(shard) for shard in shards])
        assert merged.findings == [fixed, found, other]
        (children,) = [c for c in merged.clauses if c.id == "children"]
        assert (children.status, children.counts) == (Status.FAILED, {"failed": 1, "passed": 1})


def test_the_report_validates_with_coverage_statistics() -> None:
    jsonschema.validate(coverage_report().to_dict(), load_schema())


SEVERAL_CLAUSES = """
import pytest
from pytest_stexcel_privacy.findings.outcomes import PrivacyViolation


@pytest.mark.privacy("deletion")
def test_breaks_two_clauses():
    card = PrivacyViolation("card-data", "card kept", ["card in the log"], "fixed sequence: buy")
    again = PrivacyViolation("children", "child kept", ["born 2017"], "generated sequence: x")
    also = PrivacyViolation("children", "child mailed", ["born 2015"], "fixed sequence: sign up")
    raise PrivacyViolation(
        "children", "child signed up", ["born 2016"], "fixed sequence: sign up", [card, again, also]
    )
"""


def test_one_check_files_each_violation_under_its_own_clause(pytester: pytest.Pytester) -> None:
    """A violation carrying further ones: a finding per clause and example, in the report
    and the clause table. A further one of the same clause shown by the same example adds
    its evidence to that finding; one shown by another example (what a search found) is a
    finding of its own, so each finding's evidence is what its example shows."""
    pytester.makepyfile(test_check=SEVERAL_CLAUSES)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--privacy-report=out")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    report = read_json(pytester.path / "out")
    findings = {(f["clause"], f["example"]): f for f in report["findings"]}
    assert len(findings) == len(report["findings"])
    assert {key: [e["text"] for e in f["evidence"]] for key, f in findings.items()} == {
        ("children", "fixed sequence: sign up"): ["born 2016", "born 2015"],
        ("children", "generated sequence: x"): ["born 2017"],
        ("card-data", "fixed sequence: buy"): ["card in the log"],
    }
    assert {f["status"] for f in findings.values()} == {"failed"}
    assert findings["children", "generated sequence: x"]["summary"] == "child kept"
    assert len({f["nodeid"] for f in findings.values()}) == 1
    table = result.stdout.str().split(SECTION, 1)[1]
    # one check failed each clause, however many examples showed it
    assert re.search(r"^children +FAILED .*\(1 failed\)$", table, re.MULTILINE), table
    assert re.search(r"^card-data +FAILED .*\(1 failed\)$", table, re.MULTILINE), table
    assert re.search(r"^deletion +NOT TESTED ", table, re.MULTILINE), table
