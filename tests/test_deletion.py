"""The deletion check judges bystanders by presence per logical location, not by counts.

A correct module whose full-text index compacts itself on deletion must come
out clean; a module that leaves the deleted person in that index must not.
"""

from __future__ import annotations

import pytest

from fts_module import FtsShop
from pytest_stexcel_privacy.checks.deletion import DeletionRun, DeletionScenario, full_history
from pytest_stexcel_privacy.checks.life import Life, resurrected
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import Hit, Residue
from report_reading import (
    REPORT_DIR,
    REPORT_OPTION,
    assert_checks_ended,
    described,
    statuses_for,
    suite_checks,
)

DELETION_CHECKS = suite_checks("deletion*", excluding="lifecycle")
FTS_CAPABILITIES = {name for name in vars(FtsShop) if not name.startswith("_")} | {"stores"}

SUITE = """
import pytest
import fts_module
from pytest_stexcel_privacy import PrivacySuite

class TestShop(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return fts_module.{module}(tmp_path)
"""


def run(pytester: pytest.Pytester, module: str) -> pytest.RunResult:
    pytester.makepyfile(test_shop=SUITE.format(module=module))
    return pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--privacy-max-examples=5",
        "--privacy-shrink-seconds=2",
        "--privacy-clauses=deletion*",
        "-k",
        "not lifecycle",
        REPORT_OPTION,
    )


def test_module_compacting_its_full_text_index_passes_with_zero_findings(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, "FtsShop")
    expected = statuses_for(DELETION_CHECKS, FTS_CAPABILITIES, "passed")
    report = assert_checks_ended(result, pytester.path / REPORT_DIR, expected)
    assert [f["evidence"] for f in report.findings()] == [[]] * len(expected)


@pytest.mark.parametrize(
    ("module", "where"),
    [
        # the person's terms left in the full-text index
        ("IndexKeepsDeleted", "shop-db customer_search_data.block (the FTS5 index of "),
        # every row deleted, but SQLite keeps their bytes, and says how to erase them
        (
            "FreePagesKeepDeleted",
            "free pages of SQLite's database file 'shop.db'; PRAGMA secure_delete = ON",
        ),
    ],
)
def test_a_deleted_person_left_in_the_engines_structures_fails_naming_them(
    pytester: pytest.Pytester, module: str, where: str
) -> None:
    result = run(pytester, module)
    expected = statuses_for(DELETION_CHECKS, FTS_CAPABILITIES, "passed")
    expected["test_deletion_leaves_no_residue"] = "failed"
    report = assert_checks_ended(result, pytester.path / REPORT_DIR, expected)
    (finding,) = report.findings("deletion", status="failed")
    assert "trace(s) of the deleted person survived delete()" in finding["summary"]
    text = described(finding)
    assert where in text
    assert "other people's data" not in text
    assert "(also)" not in text


# --- the judgement itself, on scans made up by hand ---------------------------------------

SUBJECT, BYSTANDER = assemble(given="Ann", family="Gone"), assemble(given="Bo", family="Stays")
SCENARIO = DeletionScenario((SUBJECT, BYSTANDER), ())


def hit(location: str, locator: str, field: str = "email", structure: str = "") -> Hit:
    needle = next(n for n in BYSTANDER.needles if n.field == field and n.form == "exact")
    return Hit("db", location, locator, needle, structure)


def lost(before: list[Hit], after: list[Hit]) -> list[str]:
    run = DeletionRun(SCENARIO, Residue.collapse(before, []), Residue.collapse(after, []), 0)
    return run.lost_bystander_data()


def test_a_value_moving_to_another_row_or_losing_a_copy_is_not_lost() -> None:
    before = [hit("customers.email", "id=1"), hit("customers.email", "id=2")]
    assert lost(before, [hit("customers.email", "id=7")]) == []


def test_a_value_gone_from_a_location_is_lost_wherever_else_it_stays() -> None:
    before = [hit("customers.email", "id=1"), hit("orders.email", "id=4")]
    assert lost(before, [hit("customers.email", "id=1")]) == [
        "db orders.email: bystander1's email (exact) was there before the deletion "
        "and is gone after it"
    ]


def test_the_engines_own_structures_are_never_judged_for_bystanders() -> None:
    index = "the FTS5 index of 'customers_fts'"
    before = [hit("customers_fts_data.block", f"id={n}", structure=index) for n in (1, 2, 3)]
    assert lost(before, []) == []


# --- a life before deletion, and the e-mail's return after it -------------------------------


def test_a_return_looks_for_every_old_profile_but_the_shared_email_and_cards() -> None:
    first = assemble(given="Ann", family="Gone")
    renamed = first.changed(first_name=f"{first.first_name}-Marie")
    life = Life([first, renamed], [1])
    newcomer = assemble(given="Rae", family="Return").changed(email=renamed.email)
    sought = {(n.field, n.key) for n in resurrected(life, newcomer)}
    assert {field for field, _ in sought} == {
        "first_name",
        "last_name",
        "phone",
        "street",
        "employer",
        "job_title",
    }
    assert all(n.key in {k for _, k in sought} for n in renamed.needles if n.field == "first_name")


def test_the_fixed_scenario_lives_every_step_it_can_and_says_so() -> None:
    scenario = full_history(["order"], ["purchase", "reimport"], ["register"])
    assert scenario.life == ("purchase", "purchase", "reimport")
    assert repr(scenario).endswith("life=[purchase, purchase, reimport], then register() again)")
