"""The module's clock moves only around the steps that need a date (issue 14, item 6).

A tiny adapter records, during each call, what the process clock said and the
dates the suite gave its ``set_today``: purchases, mail and deletions run in
real time; sign-ups, and every call once the lifecycle let time pass, are
judged on the lifecycle's date on a ticking clock; the children's edges stop
the clock at their exact instant, for the sign-up only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from pytest_stexcel_privacy import Card, Person
from pytest_stexcel_privacy.checks.children import attempt, edge_cases
from pytest_stexcel_privacy.checks.lifecycle import PrivacyLifecycle
from pytest_stexcel_privacy.checks.module_clock import module_clock
from pytest_stexcel_privacy.harness.holder import PrivacyHarness
from pytest_stexcel_privacy.harness.state_machines import FIXED, Step
from pytest_stexcel_privacy.observe.mail_sink import MailSink
from pytest_stexcel_privacy.settings import PrivacySettings
from toy_adapter import ToyAdapter

# A day ahead of UTC for half of every day: the module's date is not the UTC date.
ZONE = "Pacific/Kiritimati"
REAL_TIME_SLACK = 120.0  # seconds: a step in real time, however slow the machine


class Recording(ToyAdapter):
    """Records, for each call, the process clock as the module would read it."""

    time_zone = ZONE

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.seen: list[tuple[str, float, datetime]] = []
        self.ticking: list[bool] = []

    def _saw(self, method: str) -> None:
        first = time.time()
        time.sleep(0.01)
        self.ticking.append(time.time() > first)
        self.seen.append((method, first, datetime.now(ZoneInfo(ZONE))))

    def register(self, person: Person) -> Any:
        self._saw("register")
        return super().register(person)

    def delete(self, account: Any) -> None:
        self._saw("delete")
        super().delete(account)

    def purchase(self, account: Any, card: Card) -> None:
        self._saw("purchase")

    def opt_out(self, account: Any) -> None:
        self._saw("opt_out")

    def send_marketing(self) -> None:
        self._saw("send_marketing")

    def send_transactional(self, account: Any) -> None:
        self._saw("send_transactional")

    def calls(self, method: str) -> list[tuple[float, datetime]]:
        return [(t, now) for m, t, now in self.seen if m == method]


class OwnDate(Recording):
    """A module with a business date of its own."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.log: list[date | str] = []  # the dates set_today got, between the calls

    def set_today(self, today: date) -> None:
        self.log.append(today)

    def _saw(self, method: str) -> None:
        super()._saw(method)
        self.log.append(method)


A = TypeVar("A", bound=Recording)


def opened(adapter: A) -> Iterator[tuple[A, PrivacyHarness]]:
    privacy = PrivacySettings(mail_settle=0.0)
    harness = PrivacyHarness.open(adapter, None, None, privacy, "tests::clock")
    yield adapter, harness
    harness.close()


@pytest.fixture
def recording(tmp_path: Path) -> Iterator[tuple[Recording, PrivacyHarness]]:
    yield from opened(Recording(tmp_path))


@pytest.fixture
def own_date(tmp_path: Path) -> Iterator[tuple[OwnDate, PrivacyHarness]]:
    yield from opened(OwnDate(tmp_path))


def local_today() -> date:
    return datetime.now(ZoneInfo(ZONE)).date()


STEPS = (
    Step(PrivacyLifecycle.register_adult, age=30),
    Step(PrivacyLifecycle.purchase, index=0),
    Step(PrivacyLifecycle.opt_out, index=0),
    Step(PrivacyLifecycle.send_marketing),
    Step(PrivacyLifecycle.send_transactional, index=0),
    Step(PrivacyLifecycle.delete, index=0),
    Step(PrivacyLifecycle.advance_time, days=365),
    Step(PrivacyLifecycle.register_adult, age=40),
    Step(PrivacyLifecycle.purchase, index=0),
)
REAL_TIME_STEPS = ("register", "purchase", "opt_out", "send_marketing", "send_transactional")


def drive_lifecycle(harness: PrivacyHarness) -> None:
    machine = PrivacyLifecycle(harness, MailSink(), FIXED)
    for step in STEPS:
        step.apply(machine)


def assert_real_time(seen: list[tuple[str, float, datetime]]) -> None:
    for method, at, _ in seen:
        assert abs(at - time.time()) < REAL_TIME_SLACK, f"{method} ran off the real clock"


def test_lifecycle_steps_run_in_real_time_until_time_passes(
    recording: tuple[Recording, PrivacyHarness],
) -> None:
    adapter, harness = recording
    drive_lifecycle(harness)
    methods = [method for method, _, _ in adapter.seen]
    assert methods == [*REAL_TIME_STEPS, "delete", "register", "purchase"]
    assert_real_time(adapter.seen[:6])
    # once time has passed, what the module does is judged on the new date
    ahead = local_today() + timedelta(days=365)
    assert [now.date() for _, _, now in adapter.seen[6:]] == [ahead, ahead]
    assert all(adapter.ticking), "the clock stood still during a call"


def test_lifecycle_gives_a_module_with_its_own_date_the_date_and_leaves_the_clock(
    own_date: tuple[OwnDate, PrivacyHarness],
) -> None:
    adapter, harness = own_date
    drive_lifecycle(harness)
    assert_real_time(adapter.seen)
    today, ahead = local_today(), local_today() + timedelta(days=365)
    # on today's at the start, before each sign-up, and on the new date once time passed
    assert adapter.log == [
        today,
        today,
        *REAL_TIME_STEPS,
        "delete",
        ahead,
        ahead,
        "register",
        "purchase",
    ]


def test_children_give_set_today_the_local_date_and_then_today_back(
    own_date: tuple[OwnDate, PrivacyHarness],
) -> None:
    adapter, harness = own_date
    cases = edge_cases(harness.adapter.profile)[:2]  # just after midnight, a second before
    with module_clock(harness) as clock:
        for case in cases:
            attempt(harness, clock, case)
    assert adapter.log == [
        cases[0].moment.date(),
        "register",
        cases[1].moment.date(),
        "register",
        local_today(),
    ]
    assert_real_time(adapter.seen)


def test_children_edges_stop_the_clock_at_the_exact_instant_for_the_sign_up_only(
    recording: tuple[Recording, PrivacyHarness],
) -> None:
    adapter, harness = recording
    cases = edge_cases(harness.adapter.profile)[:2]
    with module_clock(harness) as clock:
        for case in cases:
            attempt(harness, clock, case)
            assert datetime.now(ZoneInfo(ZONE)) != case.moment  # back in real time
    assert [now for _, now in adapter.calls("register")] == [c.moment for c in cases]
    assert cases[0].moment.strftime("%H:%M:%S") == "00:00:00"
    assert cases[1].moment.strftime("%H:%M:%S") == "23:59:59"
