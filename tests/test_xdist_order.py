"""Under xdist each worker puts the long checks first, in the same order on every worker,
so that no worker ends alone on a long check it picked up last."""

from __future__ import annotations

import json

import pytest

import pytest_stexcel_privacy.checks.suite  # noqa: F401  (registers every check)
from pytest_stexcel_privacy.checks.registry import CHECKS, long_checks_first


class Item:
    def __init__(self, name: str) -> None:
        self.name = f"{name}[x]"
        self.originalname = name


def test_long_checks_go_first_and_each_group_keeps_its_order() -> None:
    names = [
        "test_users_own",
        "test_card_number_does_not_outlive_the_purchase",
        "test_lifecycle_keeps_every_promise",
        "test_age_gate_is_exact",
        "test_opt_outs_hold_over_any_sequence",
    ]
    items = [Item(name) for name in names]
    long_checks_first(items)  # type: ignore[arg-type]
    assert [item.originalname for item in items] == [
        "test_lifecycle_keeps_every_promise",
        "test_opt_outs_hold_over_any_sequence",
        "test_users_own",
        "test_card_number_does_not_outlive_the_purchase",
        "test_age_gate_is_exact",
    ]


def test_the_long_checks_are_the_ones_that_search_whole_lives() -> None:
    assert {name for name, spec in CHECKS.items() if spec.long_running} == {
        "test_lifecycle_keeps_every_promise",
        "test_opt_outs_hold_over_any_sequence",
        "test_deletion_leaves_no_residue",
        "test_deletion_reaches_processors",
        "test_retentions_cover_only_what_they_name",
    }


def test_each_xdist_worker_runs_in_that_order(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import json, os

        def pytest_collection_finish(session):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            with open(f"order-{worker}.json", "w") as out:
                json.dump([item.name for item in session.items], out)
        """
    )
    pytester.makepyfile(
        test_order="""
        from pytest_stexcel_privacy import PrivacySuite  # registers the checks

        def test_first(): pass
        def test_lifecycle_keeps_every_promise(): pass
        def test_last(): pass
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2").assert_outcomes(passed=3)
    orders = [json.loads(path.read_text()) for path in pytester.path.glob("order-gw*.json")]
    assert len(orders) == 2
    for order in orders:
        assert order == ["test_lifecycle_keeps_every_promise", "test_first", "test_last"]
