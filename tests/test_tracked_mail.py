"""Mail as frameworks send it: account notices, click-tracked unsubscribe links, and mail
findings that keep their identity from run to run.

The module is ``tracked_shop.TrackedShop``: correct, and it must come out clean;
its broken variants must each be caught, under a key an acceptance or a baseline can
name.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from report_reading import REPORT_DIR, Report, read_report

SUITE = """
import pytest
import tracked_shop
from pytest_stexcel_privacy import PrivacySuite


class TestShop(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, mail_sink):
        return tracked_shop.{variant}(tmp_path, mail_sink.address)
"""
OPT_OUTS = "test_opt_outs_hold_over_any_sequence"
LIFECYCLE = "test_lifecycle_keeps_every_promise"


def run_shop(
    pytester: pytest.Pytester, variant: str, *args: str, checks: str = "opt_outs_hold"
) -> Report:
    pytester.makepyfile(test_shop=SUITE.format(variant=variant))
    pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--privacy-max-examples=3",
        "--privacy-shrink-seconds=2",  # the keys asserted do not depend on the reduction
        f"--privacy-report={REPORT_DIR}",
        "-k",
        checks,
        *args,
    )
    return read_report(pytester.path / REPORT_DIR)


def keys(finding: dict[str, object], part: str = "evidence") -> set[str]:
    items = finding[part]
    assert isinstance(items, list)
    return {
        f"mail {e['location']}: {e['locator']} during {e['step']}"
        for e in items
        if e.get("store") == "mail"
    }


def test_notices_and_tracked_links_of_a_correct_module_pass(pytester: pytest.Pytester) -> None:
    """allauth's address confirmation at sign-up, Django's password reset as service mail, a
    receipt during delete(), marketing whose only unsubscribe link is click-tracked: all
    correct, so both machines that judge mail pass."""
    report = run_shop(pytester, "TrackedShop", checks="opt_outs_hold or lifecycle")
    assert report.check_statuses() == {OPT_OUTS: "passed", LIFECYCLE: "passed"}, report.data


@pytest.mark.parametrize(
    ("variant", "summary", "key"),
    [
        (
            "TrackedUnsubscribeIgnored",
            "marketing reached p",
            "mail marketing-after-opt-out: opted out during send_marketing()",
        ),
        (
            "TrackedUnsubscribeHitsTheWrongPerson",
            "marketing reached p",
            "mail marketing-after-opt-out: opted out during send_marketing()",
        ),
        (
            "FarewellOffer",
            "mail reached p",
            "mail mail-after-deletion: deleted during delete()",
        ),
        (
            "ReceiptSentLater",
            "mail reached p",
            "mail mail-after-deletion: deleted during send_marketing()",
        ),
    ],
)
def test_broken_mail_is_caught_under_a_stable_key(
    pytester: pytest.Pytester, variant: str, summary: str, key: str
) -> None:
    report = run_shop(pytester, variant)
    (finding,) = report.findings("email-opt-out")
    assert finding["status"] == "failed", finding
    assert finding["summary"].startswith(summary), finding
    # the finding is known by this key; the same run may add more evidence under the
    # clause (the farewell offer also has no working unsubscribe)
    assert key in keys(finding), finding


def test_a_mail_finding_can_be_accepted_and_compared_with_a_baseline(
    pytester: pytest.Pytester,
) -> None:
    """The same broken module, run twice: the second run's comparison calls the finding
    unchanged (not new and fixed), and an acceptance naming its key makes the check pass
    with the evidence listed as accepted. No recipient or unsubscribe token shows."""
    first = run_shop(pytester, "TrackedUnsubscribeIgnored")
    (failed,) = first.findings("email-opt-out", status="failed")
    baseline = pytester.path / "baseline.json"
    baseline.write_text(json.dumps(first.data), encoding="utf-8")

    again = run_shop(pytester, "TrackedUnsubscribeIgnored", f"--privacy-baseline={baseline}")
    comparison = again.data["comparison"]
    identity = "email-opt-out | mail marketing-after-opt-out: opted out during send_marketing()"
    assert (comparison["new"], comparison["fixed"]) == ([], []), comparison
    assert identity in comparison["unchanged"], comparison

    Path(pytester.path, "accepted.toml").write_text(
        '[[accept]]\nclause = "email-opt-out"\n'
        'finding = "mail marketing-after-opt-out: opted out during send_marketing()"\n'
        'reason = "SHOP-12: the click tracker learns unsubscribe links in release 3"\n'
        "expires = 2030-01-31\n",
        encoding="utf-8",
    )
    accepted = run_shop(pytester, "TrackedUnsubscribeIgnored", "--privacy-accept=accepted.toml")
    (finding,) = accepted.findings("email-opt-out")
    assert finding["status"] == "passed", finding
    assert keys(finding, "accepted") == {identity.split(" | ", 1)[1]}, finding

    text = json.dumps([failed, finding])
    assert "@" not in text.replace("hello@shop.example", ""), text  # recipients masked
    assert "/c/" not in text, text  # unsubscribe links and their tokens masked
    assert "/one-click/" not in text, text
