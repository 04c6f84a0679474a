"""A fixed script of adapter calls: what checks that need no search share.

The policy-notice and shine-the-light checks each drive one scripted scenario
rather than a state machine: they sign up adults, call the adapter step by
step, and name those steps in a failure's example. :class:`Script` holds the
people, the steps and the mail each call sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..contract.adapter import RegistrationRejected
from ..errors import CheckInconclusive
from ..harness.holder import PrivacyHarness
from ..observe.mail_sink import MailMessage, MailSink
from .people_model import Member, named_person


class Script:
    """One scripted run: the harness's adapter, the people signed up, the steps taken."""

    def __init__(self, harness: PrivacyHarness, sink: MailSink) -> None:
        self.harness = harness
        self.adapter = harness.adapter
        self.sink = sink
        self.timeout = harness.settings.call_timeout
        self.steps: list[str] = []
        self.members: list[Member] = []

    def call(self, step: str, method: str, *args: Any) -> Any:
        """Call ``method`` through the checked adapter, recording ``step``."""
        self.steps.append(step)
        return self.adapter.call_within(self.timeout, method, *args)

    def mail_of(self, step: str, method: str, *args: Any) -> list[MailMessage]:
        """Call ``method`` and return the mail it sent."""
        mark = self.sink.mark()
        self.call(step, method, *args)
        return self.sink.settle(mark, quiet=self.harness.settings.mail_settle)

    def join(self, born: date) -> Member:
        """Sign up the next adult; a refusal leaves the check nothing to judge."""
        label = f"p{len(self.members)}"
        person = named_person(len(self.members), birth_date=born)
        try:
            account = self.call(f"register({label})", "register", person)
        except RegistrationRejected as exc:
            raise CheckInconclusive(
                f"{self.adapter.name}.register() refused an adult ({label}): {exc}"
            ) from exc
        member = Member(label, person, account, self.adapter.profile.marketing_by_default)
        self.members.append(member)
        return member

    def example(self) -> str:
        """The steps, as a failure's example names them."""
        return "fixed sequence: " + "; ".join(self.steps)
