"""Under xdist each worker orders the checks alike, so that no worker ends alone on a long
check it picked up last: the long ones first (``--dist load``), or spread over one lane per
worker, each the size of worksteal's first share (``--dist worksteal``)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from xdist.scheduler import WorkStealingScheduling

import pytest_stexcel_privacy.checks.suite  # noqa: F401  (registers every check)
from pytest_stexcel_privacy.checks.registry import CHECKS
from pytest_stexcel_privacy.checks.worker_order import lanes_for_worksteal, long_checks_first


class Item:
    def __init__(self, name: str) -> None:
        self.name = f"{name}[x]"
        self.originalname = name


def test_long_checks_go_first_longest_first_and_each_group_keeps_its_order() -> None:
    names = [
        "test_users_own",
        "test_card_number_does_not_outlive_the_purchase",
        "test_opt_outs_hold_over_any_sequence",
        "test_age_gate_is_exact",
        "test_lifecycle_keeps_every_promise",
    ]
    items = [Item(name) for name in names]
    long_checks_first(items)  # type: ignore[arg-type]
    assert [item.originalname for item in items] == [
        "test_lifecycle_keeps_every_promise",  # the costliest, though collected after
        "test_opt_outs_hold_over_any_sequence",
        "test_users_own",
        "test_card_number_does_not_outlive_the_purchase",
        "test_age_gate_is_exact",
    ]


SUITE = [
    "test_users_own",
    "test_lifecycle_keeps_every_promise",
    "test_deletion_leaves_no_residue",
    "test_age_gate_is_exact",
    "test_deletion_reaches_processors",
    "test_card_number_does_not_outlive_the_purchase",
    "test_retentions_cover_only_what_they_name",
    "test_opt_outs_hold_over_any_sequence",
    "test_policy_change_notice_reaches_every_account",
]


def cost(name: str) -> int:
    spec = CHECKS.get(name)  # a user's own test is no check: it costs nothing
    return 0 if spec is None else spec.cost


class Worker:
    """What xdist's scheduler talks to: a worker that records the tests sent to it."""

    def __init__(self, number: int) -> None:
        self.gateway = SimpleNamespace(id=f"gw{number}")
        self.shutting_down = False
        self.sent: list[int] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.extend(indices)


def first_shares(pytester: pytest.Pytester, collection: list[str], workers: int) -> list[list[str]]:
    """What xdist's own worksteal scheduler hands each worker first, for ``collection``."""
    config = pytester.parseconfig("-n", str(workers))
    config.option.tx = ["popen"] * workers  # what xdist makes of -n when the run starts
    scheduler = WorkStealingScheduling(config)
    nodes = [Worker(number) for number in range(workers)]
    for node in nodes:
        scheduler.add_node(node)  # type: ignore[arg-type]
    for node in nodes:
        scheduler.add_node_collection(node, collection)  # type: ignore[arg-type]
    scheduler.schedule()
    return [[collection[index] for index in node.sent] for node in nodes]


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_worksteal_lanes_share_the_cost_and_fill_with_short_checks(
    pytester: pytest.Pytester, workers: int
) -> None:
    items = [Item(name) for name in SUITE]
    lanes_for_worksteal(items, workers)  # type: ignore[arg-type]
    order = [item.originalname for item in items]
    assert sorted(order) == sorted(SUITE)  # nothing lost, nothing twice
    shares = first_shares(pytester, order, workers)
    assert [name for share in shares for name in share] == order  # contiguous, every test sent
    costs = [[cost(name) for name in share] for share in shares]
    for share_costs in costs:
        assert share_costs == sorted(share_costs, reverse=True)  # costly first, short at the tail
    totals = [sum(share_costs) for share_costs in costs]
    # the lifecycle (2) and four checks of 1: as even as whole checks allow
    assert max(totals) - min(totals) <= 1, (totals, shares)
    short = [name for name in order if not cost(name)]
    assert short == [name for name in SUITE if not cost(name)]  # in collected order


def test_the_long_checks_are_the_ones_that_search_whole_lives() -> None:
    assert {name for name, spec in CHECKS.items() if spec.long_running} == {
        "test_lifecycle_keeps_every_promise",
        "test_opt_outs_hold_over_any_sequence",
        "test_deletion_leaves_no_residue",
        "test_deletion_reaches_processors",
        "test_retentions_cover_only_what_they_name",
    }


@pytest.mark.parametrize(
    ("dist", "expected"),
    [
        (
            "load",
            [
                "test_lifecycle_keeps_every_promise",
                "test_deletion_leaves_no_residue",
                "test_opt_outs_hold_over_any_sequence",
                "test_first",
                "test_second",
                "test_last",
            ],
        ),
        (
            "worksteal",
            [
                "test_lifecycle_keeps_every_promise",  # the first worker's share
                "test_first",
                "test_second",
                "test_deletion_leaves_no_residue",  # the second's
                "test_opt_outs_hold_over_any_sequence",
                "test_last",
            ],
        ),
        (
            # the shares of what -k leaves, 2 and 2 (of all six, the lifecycle's would hold
            # the two short ones -k drops, and the last would trail the other lane)
            "worksteal -k not test_first and not test_second",
            [
                "test_lifecycle_keeps_every_promise",
                "test_last",
                "test_deletion_leaves_no_residue",
                "test_opt_outs_hold_over_any_sequence",
            ],
        ),
    ],
)
def test_each_xdist_worker_runs_in_that_order(
    pytester: pytest.Pytester, dist: str, expected: list[str]
) -> None:
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
        def test_deletion_leaves_no_residue(): pass
        def test_second(): pass
        def test_opt_outs_hold_over_any_sequence(): pass
        def test_last(): pass
        """
    )
    mode, _, selection = dist.partition(" -k ")
    selected = ("-k", selection) if selection else ()
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--dist", mode, *selected
    )
    result.assert_outcomes(passed=len(expected))
    orders = [json.loads(path.read_text()) for path in pytester.path.glob("order-gw*.json")]
    assert len(orders) == 2
    for order in orders:
        assert order == expected
