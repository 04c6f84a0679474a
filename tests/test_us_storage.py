"""us-storage tells a connection that carried a person's value from one that only connected."""

from __future__ import annotations

from pytest_stexcel_privacy.checks.us_storage import egress_summary, event_evidence
from pytest_stexcel_privacy.observe.egress import EgressEvent
from pytest_stexcel_privacy.observe.residency import resolve
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher

SENT = "personal data sent outside the United States"
CONNECTED = "connections to destinations not shown to be in the United States"
IRELAND = resolve("eu-west-1")


def test_a_connection_carrying_a_persons_value_is_data_sent() -> None:
    person = assemble(given="Ada", family="Wire")
    matcher = NeedleMatcher(person.needles)
    payload = f"POST /track?who={person.email} HTTP/1.1".encode()
    carrying = event_evidence(
        EgressEvent("http", "analytics.example.org", 443, payload=payload), IRELAND, matcher
    )
    bare = event_evidence(EgressEvent("connect", "203.0.113.7", 443), IRELAND, matcher)
    assert (carrying.field, bare.field) == ("email", "")
    assert egress_summary([bare, carrying, "(the module then failed: refused)"]) == SENT


def test_connections_that_carried_nothing_are_only_connections() -> None:
    matcher = NeedleMatcher(assemble(given="Ben", family="Cable").needles)
    # A host named for what it does is not data: only a matched value is.
    events = [
        EgressEvent("connect", "carrying-freight.example.org", 443),
        EgressEvent("http", "carrying.example.net", 80, payload=b"GET /carrying HTTP/1.1"),
    ]
    evidence = [event_evidence(event, IRELAND, matcher) for event in events]
    assert all("carrying" in item.text for item in evidence)
    assert egress_summary([*evidence, "(the module then failed: refused)"]) == CONNECTED
