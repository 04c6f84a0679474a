"""Accepted findings: applied once, and never re-filed under another clause."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SUITE = """
import pytest
from privacy_adapter import on_sinks
from pytest_stexcel_privacy import PrivacySuite
import mutants


class TestCardLogged(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, processor_sink, mail_sink, s3_server):
        yield from on_sinks(
            tmp_path, processor_sink, mail_sink, s3_server,
            service_class=mutants.CardNumberInPaymentLog,
        )
"""


def test_an_accepted_card_finding_is_not_refiled_by_the_lifecycle(
    pytester: pytest.Pytester,
) -> None:
    """The module logs card numbers, and the project accepted that: the lifecycle, which
    sees the card number after ``register(p0); purchase(p0)``, must then pass, not report
    the same hit as a deleted person's data (nobody was deleted)."""
    pytester.makepyfile(test_suite=SUITE)
    pytester.path.joinpath("accepted.toml").write_text(
        '[[accept]]\nclause = "card-data"\nfinding = "erp-files logs/app.log: card_number *"\n'
        'reason = "PAY-9: the payment log is masked in release 5"\n'
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
