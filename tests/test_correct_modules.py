"""Correct modules come out clean (issue 14, "No false alarms").

Each module in ``correct_modules`` honours every promise of the policy, so the
whole suite, run as a user runs it (a ``PrivacySuite`` subclass in a test
module, the plugin from its entry point), must end with every clause PASSED
or NOT APPLICABLE for a stated reason, no failed or errored check, and exit
code 0. A failure here is a false alarm of the suite: fix the suite, never
the module. The jewelry example joins them under ``privacy-deep``; under
``privacy-ci`` it is ``test_mutants.py``'s reference test.

Select the deep runs with ``-k privacy-deep`` (they also run in CI).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from report_reading import REPORT_DIR, REPORT_OPTION, Report, described, read_report, suite_checks

ALL_CHECKS = suite_checks()

SUITE = """
import pytest
from pytest_stexcel_privacy import PrivacySuite
{imports}

class TestCorrectModule(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, {fixtures}):
        yield from on_sinks({fixtures})
"""


@dataclass(frozen=True)
class CorrectModule:
    imports: str
    fixtures: str  # the fixtures its privacy_adapter takes, passed on to on_sinks in order
    # checks that cannot apply to it -> what their reason must say
    not_applicable: dict[str, str] = field(default_factory=dict)

    def suite(self) -> str:
        return SUITE.format(imports=self.imports, fixtures=self.fixtures)


NO_SITES = "does not implement connect_third_party"
# Neither announces policy changes nor answers "Shine the Light" requests.
WITHOUT_NOTICE_OR_DISCLOSURES = {
    "test_policy_change_notice_reaches_every_account": "does not implement "
    "announce_policy_change()",
    "test_disclosure_list_names_the_marketing_recipients": "does not implement "
    "third_parties_disclosed_for_direct_marketing(year, account)",
}

MODULES = {
    "workshop": CorrectModule(
        "from correct_modules.workshop_adapter import on_sinks",
        "tmp_path, processor_sink, mail_sink",
        # no third-party site to connect an account to
        {"test_disconnected_site_receives_nothing_more": NO_SITES, **WITHOUT_NOTICE_OR_DISCLOSURES},
    ),
    "atelier": CorrectModule(
        "from correct_modules.atelier_adapter import on_sinks",
        "tmp_path, processor_sink, mail_sink",
        # it keeps nothing of a deleted client, so it declares no retention
        {
            "test_retentions_cover_only_what_they_name": "declares none",
            "test_disconnected_site_receives_nothing_more": NO_SITES,
            **WITHOUT_NOTICE_OR_DISCLOSURES,
        },
    ),
    "jewelry": CorrectModule(
        "from privacy_adapter import on_sinks",
        "tmp_path, processor_sink, mail_sink, s3_server",
    ),
}

# Examples per property check under each profile: privacy-ci as a merge gate runs it
# (its own 20). privacy-deep draws 200 examples of up to 100 steps each; at 25 the
# lifecycle alone took 7 minutes per module on two busy cores, so the override keeps
# the deep profile's long sequences with 10 examples: about 2.5 minutes per module
# (the jewelry example: 3).
PROFILES: dict[str, int | None] = {"privacy-ci": None, "privacy-deep": 10}
RUNS = [
    pytest.param(module, profile, id=f"{module}-{profile}")
    for profile in PROFILES
    for module in MODULES
    if (module, profile) != ("jewelry", "privacy-ci")  # test_mutants.py covers it
]


def run_clean_suite(pytester: pytest.Pytester, module: str, profile: str) -> Report:
    pytester.makepyfile(test_correct_module=MODULES[module].suite())
    examples = PROFILES[profile]
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        f"--hypothesis-profile={profile}",
        *([] if examples is None else [f"--privacy-max-examples={examples}"]),
        "--privacy-shrink-seconds=5",
        REPORT_OPTION,
    )
    report = read_report(pytester.path / REPORT_DIR)
    failing = [described(f) for f in report.findings() if f["status"] in ("failed", "error")]
    assert not failing, "\n\n".join(failing)
    assert result.ret == pytest.ExitCode.OK
    return report


@pytest.mark.parametrize(("module", "profile"), RUNS)
def test_correct_module_comes_out_clean(
    pytester: pytest.Pytester, module: str, profile: str
) -> None:
    report = run_clean_suite(pytester, module, profile)
    expected = MODULES[module].not_applicable
    assert report.check_statuses() == {
        name: "not applicable" if name in expected else "passed" for name in ALL_CHECKS
    }
    for finding in report.findings(status="not applicable"):
        name = finding["nodeid"].rsplit("::", 1)[-1]
        assert expected[name] in finding["summary"], finding
    for finding in report.findings():
        assert not finding["evidence"], described(finding)
    clauses = report.clause_statuses()
    assert set(clauses.values()) <= {"passed", "not applicable"}, clauses
    assert report.data["gate"] == "pass"
