"""Disconnecting your Stexcel Account from Third Party Websites: clause ``account-disconnect``.

For each site the adapter declares ``connectable``, a person signs up and
connects it. While connected the module may send that site their data: the
check first sees that it does (the positive control: else an absence proves
nothing). The person then disconnects, and lives on: a profile and e-mail
change, a purchase, mail, finally a deletion. No request carrying any of their
profiles may reach the site after the disconnect, and the tokens the site
issued while connecting (the provider sink answers every request with a token
minted for it) may be in no store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..contract.adapter import Account, Processor, RegistrationRejected
from ..errors import AdapterContractError, CheckInconclusive
from ..findings.evidence import PROVIDERS, Evidence
from ..findings.outcomes import PrivacyViolation
from ..harness.holder import PrivacyHarness
from ..observe.mail_sink import MailSink
from ..observe.processor_sink import RecordedRequest
from ..people.needles import Needle
from ..people.persons import Person, assemble
from ..scan.matcher import NeedleMatcher
from .life import MARKETING_MAIL, NEW_EMAIL, NEW_NAME, PURCHASE, SERVICE_MAIL, live
from .registry import privacy_check
from .sharing_rules import addressed_to, carried, observable_processors

CLAUSE = "account-disconnect"
TOKEN_FIELD = "connection_token"  # how a kept token is named in evidence

# What the person does while connected (so the site can be seen receiving their data), and
# after disconnecting (each a way their data could still reach it), then delete().
WHILE_CONNECTED: tuple[str, ...] = (NEW_NAME, PURCHASE, SERVICE_MAIL, MARKETING_MAIL)
AFTER_DISCONNECT: tuple[str, ...] = (NEW_NAME, NEW_EMAIL, PURCHASE, SERVICE_MAIL, MARKETING_MAIL)


def connectable_sites(harness: PrivacyHarness) -> list[Processor]:
    """The declared sites an account can be connected to; a set-up error without any."""
    adapter = harness.adapter
    if not adapter.implements("processors"):
        raise AdapterContractError(
            f"{adapter.name} implements connect_third_party but not processors(); declare "
            "each site it can connect as Processor(name, url, connectable=True)"
        )
    sites = [p for p in observable_processors(harness) if p.connectable]
    if not sites:
        raise AdapterContractError(
            f"{adapter.name}.processors() declares no site with connectable=True, so "
            "connect_third_party cannot be given a name; declare each site it can connect as "
            "Processor(name, url, connectable=True)"
        )
    return sites


@dataclass
class Connection:
    """One person's connection to one site, and what the suite saw of it."""

    site: Processor
    person: Person
    account: Account
    versions: list[Person] = field(default_factory=list)  # every profile they had
    tokens: list[str] = field(default_factory=list)  # what the site answered while connecting

    @property
    def needles(self) -> list[Needle]:
        return [n for p in [self.person, *self.versions] for n in p.needles]

    def token_needles(self) -> list[Needle]:
        return [Needle(self.person.canary, TOKEN_FIELD, "exact", t) for t in self.tokens]


class AccountDisconnectChecks:
    """Checks for the policy's "Disconnecting your Stexcel Account from Third Party
    Websites" section."""

    @privacy_check(
        CLAUSE,
        needs=("register", "delete", "stores", "connect_third_party", "disconnect_third_party"),
    )
    def test_disconnected_site_receives_nothing_more(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """For each connectable site: while connected it receives the person's data; once
        disconnected, no later step (profile or e-mail change, purchase, mail, deletion)
        sends it anything of any profile they had, and the tokens it issued on connecting
        are in no store."""
        __tracebackhide__ = True
        harness = privacy_harness
        problems: list[str | Evidence] = []
        for site in connectable_sites(harness):
            problems.extend(_judge_site(harness, mail_sink, site))
        if problems:
            flows = any(isinstance(p, Evidence) and p.store == PROVIDERS for p in problems)
            raise PrivacyViolation(
                CLAUSE,
                "a disconnected site still received the person's data"
                if flows
                else "a disconnected site's tokens are still kept",
                problems,
            )
        harness.statistics.fixed_examples += 1


def _judge_site(harness: PrivacyHarness, sink: MailSink, site: Processor) -> list[str | Evidence]:
    adapter, providers = harness.adapter, harness.processor_sink

    def call(method: str, *args: Any) -> Any:
        return adapter.call_within(harness.settings.call_timeout, method, *args)

    person = assemble(given="Cora", family="Linked", plus_tag="sites")
    try:
        connection = Connection(site, person, call("register", person))
    except RegistrationRejected as exc:
        raise CheckInconclusive(
            f"{adapter.name}.register() refused an adult born {person.birth_date} ({exc}); "
            "a site can only be connected to an account"
        ) from exc
    mark = providers.mark()
    call("connect_third_party", connection.account, site.name)
    connection.tokens = [r.token for r in providers.since(mark) if _to(r, site, providers.url)]
    _steps(harness, sink, connection, WHILE_CONNECTED)
    matcher = NeedleMatcher(connection.needles)
    if not any(_to(r, site, providers.url) and carried(r, matcher) for r in providers.since(mark)):
        raise CheckInconclusive(
            f"while connected to {site.name}, nothing of the person reached it (connecting, "
            f"then {', '.join(WHILE_CONNECTED)}), so the suite cannot show it would see data "
            "reaching it after the disconnect. Does the module send a connected site the "
            f"person's data, and is {site.name} pointed at processor_sink.url_for(...)?"
        )
    stored = bool(connection.tokens) and bool(harness.scanner.scan(connection.token_needles()).hits)
    harness.statistics.record_checked("connected site")
    if stored:
        harness.statistics.record_checked("disconnected-site token", len(connection.tokens))
    call("disconnect_third_party", connection.account, site.name)
    problems: list[str | Evidence] = []
    if stored:
        problems += [
            hit.evidence(f"a token {site.name} issued, kept after disconnect_third_party()")
            for hit in harness.scanner.scan(connection.token_needles())
        ]
    for step, requests in _steps(harness, sink, connection, AFTER_DISCONNECT):
        problems += _flows(connection, requests, step, providers.url)
    mark = providers.mark()
    call("delete", connection.account)
    problems += _flows(connection, providers.since(mark), "delete()", providers.url)
    return problems


def _steps(
    harness: PrivacyHarness, sink: MailSink, connection: Connection, steps: tuple[str, ...]
) -> list[tuple[str, list[RecordedRequest]]]:
    """Drive ``steps`` of the person's life one by one: the requests each made."""
    providers, made = harness.processor_sink, []
    for step in steps:
        mark = providers.mark()
        current = connection.versions[-1] if connection.versions else connection.person
        life = live(harness, sink, current, connection.account, (step,))
        connection.versions.extend(life.versions[1:])
        made.append((step, providers.since(mark)))
    return made


def _flows(
    connection: Connection, requests: list[RecordedRequest], step: str, sink_url: str
) -> list[str | Evidence]:
    matcher = NeedleMatcher(connection.needles)
    found: list[str | Evidence] = []
    for request in requests:
        if not _to(request, connection.site, sink_url):
            continue
        evidence = request.evidence(matcher)
        if evidence is not None:
            found.append(
                Evidence(
                    f"{connection.site.name} was disconnected, then {step} "
                    f"{evidence.text.removeprefix('sent to a provider: ')}",
                    store=evidence.store,
                    location=f"{connection.site.name} after disconnect",
                    field=evidence.field,
                    form=evidence.form,
                    value=evidence.value,
                    step=step,
                )
            )
    return found


def _to(request: RecordedRequest, site: Processor, sink_url: str) -> bool:
    return addressed_to(request, site.url, sink_url)
