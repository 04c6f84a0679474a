"""A module that declares it sends no e-mail (``sends_email = False``): the claim, proved.

"E-mail Communications" has nothing to hold such a module to, so its clause
is NOT APPLICABLE; but a declaration that switches a clause off must not be
taken on trust. Before saying so, the suite drives one person through every
step the adapter has that could send mail (sign-up, profile change, purchase,
history, deletion) and watches the mail sink: any message is a FAILED
``email-opt-out``, since the opt-out checks never ran on mail that exists.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NoReturn

from ..findings.evidence import MAIL, Evidence
from ..findings.outcomes import NotApplicable, PrivacyViolation
from ..harness.holder import PrivacyHarness
from ..observe.mail_sink import MailMessage, MailSink
from .people_model import changed_profile, named_person

MAIL_WHILE_SILENT = "mail-from-a-module-declared-silent"


def prove_no_mail_is_sent(harness: PrivacyHarness, sink: MailSink) -> NoReturn:
    """Raise NotApplicable when no step sent mail, else the violation naming the message."""
    __tracebackhide__ = True
    adapter = harness.adapter
    timeout = harness.settings.call_timeout
    today = date.today()
    person = named_person(0, birth_date=today.replace(year=today.year - 30, day=1))
    mark = sink.mark()
    sent: list[tuple[str, MailMessage]] = []

    steps: list[str] = []

    def step(method: str, *args: Any) -> Any:
        """Call ``method``, keeping whatever mail it sent."""
        steps.append(f"{method}()")
        before = sink.mark()
        result = adapter.call_within(timeout, method, *args)
        settled = sink.settle(before, quiet=harness.settings.mail_settle)
        sent.extend((f"{method}()", message) for message in settled)
        return result

    account = step("register", person)
    optional: list[tuple[str, tuple[Any, ...]]] = [
        ("update_profile", (account, changed_profile(person, "email"))),
        ("purchase", (account, person.card)),
        *(("add_history", (account, kind, person)) for kind in adapter.profile.history_kinds),
    ]
    for method, args in optional:
        if adapter.implements(method):
            step(method, *args)
    step("delete", account)
    if sent or sink.mark() > mark:
        harness.acceptance.enforce(
            PrivacyViolation(
                "email-opt-out",
                f"{adapter.name}.sends_email = False, yet the module sent e-mail; set "
                "sends_email = True so the suite can check its marketing and opt-outs",
                [
                    Evidence(
                        text=f"{message.describe()} in {label}",
                        store=MAIL,
                        location=MAIL_WHILE_SILENT,
                        step=label,
                    )
                    for label, message in sent
                ]
                or ["a message reached the mail sink while the suite drove the module"],
                f"sequence {'; '.join(steps)}",
            )
        )
    raise NotApplicable(
        f"{adapter.name} declares sends_email = False, and no message reached the mail "
        f"sink through {', '.join(steps)}"
    )
