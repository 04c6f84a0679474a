"""A scan's quicker GIL hand-offs last exactly as long as the scans that asked for them."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from pytest_stexcel_privacy.scan.handoffs import SCAN_SWITCH_INTERVAL, quick_handoffs


@pytest.fixture(autouse=True)
def interval_of_five_ms() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(before)


def test_the_interval_is_lowered_while_a_scan_runs_and_put_back_after() -> None:
    with quick_handoffs():
        assert sys.getswitchinterval() == SCAN_SWITCH_INTERVAL
    assert sys.getswitchinterval() == 0.005


def test_overlapping_scans_put_it_back_when_the_last_ends() -> None:
    first_in, second_done = threading.Event(), threading.Event()
    seen: list[float] = []

    def other_scan() -> None:
        first_in.wait(5)
        with quick_handoffs():
            pass
        seen.append(sys.getswitchinterval())  # the first scan still runs
        second_done.set()

    thread = threading.Thread(target=other_scan)
    thread.start()
    with quick_handoffs():
        first_in.set()
        assert second_done.wait(5)
    thread.join(5)
    assert seen == [SCAN_SWITCH_INTERVAL]
    assert sys.getswitchinterval() == 0.005


def test_a_scan_that_raises_puts_it_back() -> None:
    with pytest.raises(RuntimeError), quick_handoffs():
        raise RuntimeError("the store went away")
    assert sys.getswitchinterval() == 0.005


def test_an_interval_already_short_is_left_alone() -> None:
    sys.setswitchinterval(0.0005)
    with quick_handoffs():
        assert sys.getswitchinterval() == 0.0005
    assert sys.getswitchinterval() == 0.0005


def test_an_interval_someone_else_set_meanwhile_is_kept() -> None:
    with quick_handoffs():
        sys.setswitchinterval(0.002)
    assert sys.getswitchinterval() == 0.002
