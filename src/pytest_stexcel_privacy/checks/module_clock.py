"""The module's "today", moved only around the steps that need a date.

A check sets the module's calendar only for the steps it judges by date (an
age gate, a birth-date correction, whatever the module does after the
lifecycle let time pass) and no others: purchases, mail, opt-outs, deletions
and scans otherwise run in real time, so a real ERP's caches, sessions, pools
and transaction timeouts do not see the clock jump, and never see it stop
outside the one call whose exact instant matters.

How the date is set depends on the module. One that keeps a business date of
its own implements ``set_today(today)`` on its adapter: the suite calls it,
through the checked adapter, with the date in the adapter's ``time_zone``,
and leaves the process clock alone. One that reads the system clock is run
under ``time_machine`` for the step only: ticking from a moment on the right
date, or, where the exact instant matters (a sign-up a second before
midnight), stopped at that instant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from ..harness.holder import PrivacyHarness


class ModuleClock:
    """Sets the module's today for one step at a time; see the module docstring."""

    def __init__(self, harness: PrivacyHarness) -> None:
        self.adapter = harness.adapter
        self.timeout = harness.settings.call_timeout
        self.zone = ZoneInfo(self.adapter.profile.time_zone)
        self.own = self.adapter.implements("set_today")  # the module keeps its own date

    def real_today(self) -> date:
        """Today's date in the module's time zone, by the real clock."""
        return datetime.now(self.zone).date()

    def set_today(self, day: date) -> None:
        """Tell a module with a date of its own that today is ``day`` (else: nothing)."""
        if self.own:
            self.adapter.call_within(self.timeout, "set_today", day)

    @contextmanager
    def at(self, moment: datetime, *, exact: bool = False) -> Iterator[None]:
        """Run the block with the module's today on ``moment``'s date in its zone.

        ``exact`` stops the system clock at ``moment`` (a midnight edge); else it
        ticks from there, and is not moved at all when the date is already today.
        """
        local = moment.astimezone(self.zone)
        if self.own:
            self.set_today(local.date())
            yield
            return
        if not exact and local.date() == self.real_today():
            yield
            return
        import time_machine

        with time_machine.travel(local, tick=not exact):
            yield

    @contextmanager
    def on(self, day: date) -> Iterator[None]:
        """Run the block with the module's today on ``day`` (noon, ticking)."""
        with self.at(datetime.combine(day, time(12), tzinfo=self.zone)):
            yield

    def restore(self) -> None:
        """Give a module with a date of its own today's real date back, so later checks
        do not run in the past or the future."""
        self.set_today(self.real_today())


@contextmanager
def module_clock(harness: PrivacyHarness) -> Iterator[ModuleClock]:
    """A :class:`ModuleClock` for one check, restored to the real date when it ends."""
    clock = ModuleClock(harness)
    try:
        yield clock
    except BaseException:
        with suppress(Exception):  # the check's own failure is the one to report
            clock.restore()
        raise
    clock.restore()
