"""Servers Located in the United States: clause ``us-storage``.

At rest: every declared store, provider and deployment setting resolves to a
US region (:mod:`pytest_stexcel_privacy.observe.residency`), and an S3 bucket's real
location and replication targets are asked of the server. On the wire: the
egress guard records every connection the module attempts while it runs a
full scenario; a destination that is not US, or cannot be placed, is a
violation, and one that carried a person's data says which value and form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..contract.stores import FileStore, RedisStore, S3Store, SQLStore, Store
from ..errors import AdapterCallError, CheckInconclusive
from ..findings.evidence import NETWORK, Evidence
from ..findings.masking import mask
from ..findings.outcomes import PrivacyViolation
from ..harness.holder import PrivacyHarness
from ..observe.egress import DESTINATION_KINDS, NATIVE, EgressEvent, blind_spots, refused
from ..observe.mail_sink import MailSink
from ..observe.residency import LOCAL, UNKNOWN, Residency, host_of, is_loopback, resolve
from ..people.persons import Person, assemble
from ..scan.matcher import NeedleMatcher
from .history import history_kinds
from .registry import privacy_check


def store_endpoint(store: Store) -> str | None:
    if isinstance(store, SQLStore):
        url = store.url if isinstance(store.url, str) else str(store.url.url)
        return None if url.startswith("sqlite") else url
    if isinstance(store, RedisStore):
        return store.url
    if isinstance(store, S3Store):
        return store.endpoint_url
    return None


def where_is(store: Store) -> Residency:
    endpoint = store_endpoint(store)
    if isinstance(store, FileStore) or endpoint is None:
        return resolve(store.region, None)
    return resolve(store.region, endpoint)


def bucket_problems(store: S3Store) -> list[str]:
    """Ask the server where the bucket really is and where it replicates to."""
    from ..scan.s3 import s3_client

    client = s3_client(store)
    problems = []
    actual = _bucket_region(client, store.bucket)
    if store.region and actual != store.region.lower():
        problems.append(
            f"bucket {store.bucket!r} is in {actual} (the server says), not the declared "
            f"{store.region}"
        )
    elif not resolve(actual).allowed:
        problems.append(f"bucket {store.bucket!r} is in {actual}, outside the United States")
    try:
        rules = client.get_bucket_replication(Bucket=store.bucket)["ReplicationConfiguration"]
    except client.exceptions.ClientError as exc:
        if "ReplicationConfigurationNotFound" not in str(exc):
            raise
        rules = {"Rules": []}
    for rule in rules.get("Rules", []):
        target = str(rule.get("Destination", {}).get("Bucket", "")).rsplit(":", 1)[-1]
        try:
            region = _bucket_region(client, target)
        except Exception:  # a target we cannot ask about cannot be shown to be in the US
            region = "unknown"
        if not resolve(region).allowed:
            problems.append(
                f"bucket {store.bucket!r} replicates to {target!r} in {region} "
                f"(rule {rule.get('ID', '?')!r})"
            )
    return problems


def _bucket_region(client: Any, bucket: str) -> str:
    constraint = client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return str(constraint or "us-east-1").lower()  # no constraint means us-east-1


def deployment_settings(harness: PrivacyHarness) -> dict[str, str]:
    if not harness.adapter.implements("deployment"):
        return {}
    settings = harness.adapter.call_within(harness.settings.call_timeout, "deployment")
    if not isinstance(settings, dict):
        raise CheckInconclusive(
            f"{harness.adapter.name}.deployment() must return a dict of name -> URL, host or "
            f"region, got {type(settings).__name__}"
        )
    return {str(k): str(v) for k, v in settings.items()}


def resolve_setting(value: str) -> Residency:
    text = value.strip()
    if "://" not in text and ":" not in text and "." not in text and "-" in text:
        return resolve(text, None)  # a bare region name
    return resolve(None, text)


class UsStorageChecks:
    """Checks for the policy's "Servers Located in the United States" section."""

    @privacy_check("us-storage", needs=("stores",))
    def test_stores_are_in_the_us(self, privacy_harness: PrivacyHarness) -> None:
        """Every store, provider and deployment setting resolves to a US region (unknown
        fails), and S3 buckets are where the server says, replicating only to the US."""
        __tracebackhide__ = True
        harness = privacy_harness
        problems: list[str | Evidence] = []
        for store in harness.scanner.stores:
            harness.statistics.record_checked("store region")
            residency = where_is(store)
            if not residency.allowed or residency.verdict == "local":
                problems.append(
                    Evidence(
                        f"store {store.name}: {residency.describe()}",
                        store=store.name,
                        location="region",
                    )
                )
            if isinstance(store, S3Store):
                problems.extend(
                    Evidence(f"store {store.name}: {p}", store=store.name, location="bucket")
                    for p in bucket_problems(store)
                )
        for processor in harness.adapter.processors():
            harness.statistics.record_checked("provider region")
            endpoint = None if is_loopback(host_of(processor.url)) else processor.url
            residency = resolve(processor.region, endpoint)
            if not residency.allowed or residency.verdict == "local":
                problems.append(f"provider {processor.name}: {residency.describe()}")
        for name, value in deployment_settings(harness).items():
            harness.statistics.record_checked("deployment setting")
            residency = resolve_setting(value)
            if not residency.allowed or residency.verdict == "local":
                problems.append(
                    f"deployment setting {name} = {mask(value)!r}: {residency.describe()}"
                )
        if problems:
            raise PrivacyViolation(
                "us-storage",
                "personal data is kept where it is not shown to be in the US",
                problems,
            )

    @privacy_check("us-storage", needs=("register", "delete", "stores"))
    def test_personal_data_stays_in_the_us(
        self, privacy_harness: PrivacyHarness, mail_sink: MailSink
    ) -> None:
        """While the module signs people up, builds their history, mails them and deletes
        one, it connects to no destination outside the US (or that cannot be placed), and
        the guard could see all it did."""
        __tracebackhide__ = True
        harness = privacy_harness
        guard = harness.egress
        if guard is None:
            raise CheckInconclusive("the egress guard is not running; cannot see connections")
        people = [
            assemble(given="Ada", family="Wire", plus_tag="orders"),
            assemble(given="Ben", family="Cable"),
        ]
        mark, local_mark = guard.mark(), guard.local_mark()
        mail_mark, provider_mark = mail_sink.mark(), harness.processor_sink.mark()
        attempts = self._run_scenario(harness, people)
        guard.settle(harness.adapter.profile.allowed_subprocesses)
        matcher = NeedleMatcher(n for p in people for n in p.needles)
        evidence: list[str | Evidence] = list(
            connection_evidence(harness, guard.since(mark), matcher)
        )
        evidence.extend(f"(the module then failed: {a})" for a in attempts[:3] if evidence)
        if evidence:
            raise PrivacyViolation("us-storage", egress_summary(evidence), evidence)
        reached_sinks = mail_sink.since(mail_mark) or harness.processor_sink.since(provider_mark)
        if reached_sinks and not guard.local_since(local_mark):
            raise CheckInconclusive(
                "the egress guard saw none of the module's own connections: mail or provider "
                "requests reached the suite's sinks, yet no connection to them was recorded, "
                "so the guard cannot show it would have seen one leaving the machine"
            )
        harness.statistics.fixed_examples += 1

    @staticmethod
    def _run_scenario(harness: PrivacyHarness, people: list[Person]) -> list[str]:
        """Drive every capability once; a call the guard broke is noted, not fatal."""
        adapter, failures = harness.adapter, []

        def attempt(method: str, *args: Any) -> Any:
            try:
                return adapter.call_within(harness.settings.call_timeout, method, *args)
            except AdapterCallError as exc:
                if refused(exc):
                    failures.append(f"{method}: {exc}")
                    return None
                raise

        accounts = [attempt("register", person) for person in people]
        for account, person in zip(accounts, people, strict=True):
            if account is None:
                continue
            for kind in history_kinds(harness):
                if kind == "purchase":
                    attempt("purchase", account, person.card)
                else:
                    attempt("add_history", account, kind, person)
            for method in ("send_transactional", "opt_out"):
                if adapter.implements(method):
                    attempt(method, account)
        if adapter.implements("send_marketing"):
            attempt("send_marketing")
        if accounts[0] is not None:
            attempt("delete", accounts[0])
        return failures


def leaves_machine(event: EgressEvent) -> bool:
    """Whether the event is a destination to judge: the guard records one only when it is
    outside this machine (``aws`` calls are judged by their region, even via a local
    endpoint)."""
    return event.kind in DESTINATION_KINDS


def connection_evidence(
    harness: PrivacyHarness, events: list[EgressEvent], matcher: NeedleMatcher
) -> list[Evidence]:
    """Evidence of each destination outside the US, once each.

    With none, raises ``CheckInconclusive`` if the guard could not see everything
    (a process it cannot look into, a thread still running, a layer unavailable):
    a proven violation is reported first, but no verdict passes over a blind spot.
    """
    declared = declared_hosts(harness)
    evidence: dict[str, Evidence] = {}
    for event in events:
        if not leaves_machine(event):
            continue
        residency = destination_residency(event, declared)
        if not residency.allowed:
            item = event_evidence(event, residency, matcher)
            evidence.setdefault(item.text, item)
    if not evidence:
        spots = blind_spots(events, harness.adapter.profile.allowed_subprocesses)
        if spots:
            raise CheckInconclusive(
                "the egress guard could not see everything the module did, so "
                "personal data may have left unseen: " + "; ".join(spots)
            )
    return list(evidence.values())


def declared_hosts(harness: PrivacyHarness) -> dict[str, str | None]:
    hosts: dict[str, str | None] = {}
    for processor in harness.adapter.processors():
        hosts[host_of(processor.url)] = processor.region
    for store in harness.scanner.stores:
        endpoint = store_endpoint(store)
        if endpoint:
            hosts[host_of(endpoint)] = store.region
    return hosts


def destination_residency(event: EgressEvent, declared: dict[str, str | None]) -> Residency:
    if event.kind == NATIVE:
        return Residency(UNKNOWN, None, "a native call the guard cannot attribute")
    if event.kind == "aws":
        endpoint = None if is_loopback(event.host) else event.host
        return resolve(event.region, endpoint)
    residency = resolve(declared.get(event.host), event.host)
    if residency.verdict == LOCAL:  # the guard's boundary says outside (a probe's loopback post)
        return Residency(UNKNOWN, None, f"{event.host} is outside the egress guard's boundary")
    return residency


def egress_summary(evidence: Sequence[str | Evidence]) -> str:
    """What the connections outside the US did: carried a person's value, or only connected.

    A connection carried a value when its evidence names the field a needle
    matched (see :func:`event_evidence`).
    """
    if any(isinstance(item, Evidence) and item.field for item in evidence):
        return "personal data sent outside the United States"
    return "connections to destinations not shown to be in the United States"


def event_evidence(event: EgressEvent, residency: Residency, matcher: NeedleMatcher) -> Evidence:
    # A name looked up can carry data as well as a request body can.
    needle = matcher.strongest(event.host.encode() + b"\n" + event.payload)
    if needle is not None and needle.key in event.host.encode().lower():
        host = re.sub(re.escape(needle.text), mask(needle.text), event.host, flags=re.IGNORECASE)
        event = replace(event, host=host)  # the report shows the value masked, as always
    text = f"{event.describe()}: {residency.describe()}"
    if needle is None:
        return Evidence(text, store=NETWORK, location=event.host)
    return Evidence(
        f"{text}, carrying {needle.field} as {needle.form} {mask(needle.text)!r}",
        store=NETWORK,
        location=event.host,
        field=needle.field,
        form=needle.form,
        value=mask(needle.text),
    )
