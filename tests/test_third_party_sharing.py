"""The rules of "Sharing Information with Third Parties", on requests sent to the real
provider sink, and the checks' set-up errors on declared processors.

The whole checks run against the jewelry example and its mutants (test_mutants.py) and
the correct modules (test_correct_modules.py); here each rule is shown on its own.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from pytest_stexcel_privacy import Person, Processor
from pytest_stexcel_privacy.checks.account_disconnect import connectable_sites
from pytest_stexcel_privacy.checks.sharing_rules import (
    BULK_PERSONS,
    addressed_to,
    recipient,
    sharing_problems,
)
from pytest_stexcel_privacy.contract.checked import CheckedAdapter
from pytest_stexcel_privacy.errors import AdapterContractError
from pytest_stexcel_privacy.harness.holder import PrivacyHarness
from pytest_stexcel_privacy.observe.processor_sink import TOKEN_PREFIX, ProcessorSink
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan.matcher import NeedleMatcher
from pytest_stexcel_privacy.settings import PrivacySettings
from toy_adapter import ToyAdapter


@pytest.fixture
def sink() -> Iterator[ProcessorSink]:
    running = ProcessorSink().start()
    yield running
    running.stop()


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def problems_of(
    sink: ProcessorSink,
    processors: list[Processor],
    path: str,
    body: dict[str, Any],
    people: list[Person],
    deleting: bool = False,
) -> list[str]:
    mark = sink.mark()
    post(sink.url + path, body)
    (request,) = sink.since(mark)
    matcher = NeedleMatcher(n for p in people for n in p.needles)
    found = sharing_problems(
        request, recipient(request, processors, sink.url), matcher, deleting=deleting
    )
    return [e.text for e in found]


def test_the_sink_answers_each_request_with_a_token_of_its_own(sink: ProcessorSink) -> None:
    first = post(sink.url_for("site") + "/oauth/token", {})
    second = post(sink.url_for("site") + "/oauth/token", {})
    assert first["ok"] is True
    assert first["access_token"].startswith(TOKEN_PREFIX)
    assert first["access_token"] != second["access_token"]
    assert [r.token for r in sink.requests] == [first["access_token"], second["access_token"]]


def test_a_request_goes_to_the_processor_whose_url_it_is_under(sink: ProcessorSink) -> None:
    mailing = Processor("mailing", sink.url_for("mailing"))
    lists = Processor("lists", sink.url_for("mailing/lists"))
    post(sink.url_for("mailing/lists") + "/members", {})
    post(sink.url_for("mailings"), {})
    members, other = sink.requests
    assert recipient(members, [mailing, lists], sink.url) == lists  # the most specific
    assert not addressed_to(other, mailing.url, sink.url)  # /mailings is not /mailing
    assert recipient(other, [mailing, lists], sink.url) is None


def test_a_value_sent_outside_every_processor_fails(sink: ProcessorSink) -> None:
    person = assemble(given="Ann", family="Broker")
    declared = [Processor("mailing", sink.url_for("mailing"))]
    (problem,) = problems_of(sink, declared, "/broker", {"email": person.email}, [person])
    assert "sent to a recipient no declared processor covers" in problem
    assert "POST /broker carrying email" in problem
    # nothing of anyone's is no finding, wherever it goes
    assert problems_of(sink, declared, "/broker", {"count": 3}, [person]) == []


def test_a_processor_receives_only_the_fields_it_declares(sink: ProcessorSink) -> None:
    person = assemble(given="Ann", family="Parcel")
    couriers = Processor(
        "couriers", sink.url_for("couriers"), purpose="deliveries", fields=("street",)
    )
    body = {"street": person.street, "card": person.card.number}
    (problem,) = problems_of(sink, [couriers], "/couriers/ship", body, [person])
    assert "couriers (purpose deliveries) received card_number, which its declared" in problem
    # a deletion request may carry whatever finds the person
    assert problems_of(sink, [couriers], "/couriers/erase", body, [person], deleting=True) == []


def test_statistics_get_no_direct_identifier_unless_declared(sink: ProcessorSink) -> None:
    person = assemble(given="Ann", family="Counted")
    analytics = Processor("analytics", sink.url_for("analytics"), purpose="statistical-analysis")
    body = {"job": person.job_title}
    assert problems_of(sink, [analytics], "/analytics/e", body, [person]) == []
    body = {"job": person.job_title, "phone": person.phone}
    (problem,) = problems_of(sink, [analytics], "/analytics/e", body, [person])
    assert "received phone, a direct identifier statistical analysis does not need" in problem
    declared = Processor(
        "analytics",
        sink.url_for("analytics"),
        purpose="statistical-analysis",
        fields=("job_title", "phone"),
    )
    assert problems_of(sink, [declared], "/analytics/e", body, [person]) == []
    # a processor for any other purpose, fields undeclared, may receive any field
    mailing = Processor("mailing", sink.url_for("mailing"), purpose="mail")
    assert problems_of(sink, [mailing], "/mailing/m", body, [person]) == []


def test_a_customer_list_goes_only_to_a_processor_declared_for_bulk(
    sink: ProcessorSink,
) -> None:
    people = [assemble(given="Ann", family=f"Listed{i}") for i in range(BULK_PERSONS)]
    body = {"emails": [p.email for p in people]}
    mailing = Processor("mailing", sink.url_for("mailing"))
    (problem,) = problems_of(sink, [mailing], "/mailing/sync", body, people)
    assert f"{BULK_PERSONS} persons' data in one request to mailing" in problem
    assert "declare Processor('mailing', ..., bulk=True)" in problem
    bulk = Processor("mailing", sink.url_for("mailing"), bulk=True)
    assert problems_of(sink, [bulk], "/mailing/sync", body, people) == []
    # fewer persons than a list is no finding
    few = {"emails": [p.email for p in people[: BULK_PERSONS - 1]]}
    assert problems_of(sink, [mailing], "/mailing/sync", few, people) == []


class Declaring(ToyAdapter):
    def __init__(self, workdir: Path, *declared: Processor) -> None:
        super().__init__(workdir)
        self.declared = list(declared)

    def processors(self) -> list[Processor]:
        return self.declared


@pytest.mark.parametrize(
    ("processor", "message"),
    [
        (
            Processor("ads", "http://x/ads", purpose="advertising"),
            "processor 'ads' has purpose 'advertising'; the policy lets data be shared for "
            "'statistical-analysis', 'mail', 'customer-support', 'deliveries'",
        ),
        (
            Processor("couriers", "http://x/c", fields=("street", "shoe_size")),
            "processor 'couriers' names unknown field(s) ['shoe_size']",
        ),
    ],
)
def test_a_wrong_declaration_is_a_setup_error_naming_the_processor(
    tmp_path: Path, processor: Processor, message: str
) -> None:
    adapter = Declaring(tmp_path, processor)
    with pytest.raises(AdapterContractError) as raised:
        CheckedAdapter(adapter).processors()
    assert str(raised.value).startswith("Declaring.processors(): ")
    assert message in str(raised.value)


def test_fields_may_name_the_adapters_own_identifiers(tmp_path: Path) -> None:
    class WithTaxId(Declaring):
        extra_fields: ClassVar[Mapping[str, str]] = {"tax_id": "identifier"}

    adapter = WithTaxId(tmp_path, Processor("accounts", "http://x/a", fields="tax_id"))
    (processor,) = CheckedAdapter(adapter).processors()
    assert processor.fields == ("tax_id",)


def test_one_address_signed_up_again_is_one_person_not_a_list(sink: ProcessorSink) -> None:
    """The same e-mail, deleted and signed up twice more, belongs to three persons to the
    suite; a request carrying it (its hash, in a deletion request) is one person's."""
    first = assemble(given="Ann", family="Again")
    people = [first, *(assemble(given="Ann", family=f"Again{i}") for i in range(2))]
    people[1:] = [p.changed(email=first.email) for p in people[1:]]
    mailing = Processor("mailing", sink.url_for("mailing"))
    assert problems_of(sink, [mailing], "/mailing/forget", {"email": first.email}, people) == []


class Connecting(Declaring):
    def connect_third_party(self, account: Any, name: str) -> None:
        pass

    def disconnect_third_party(self, account: Any, name: str) -> None:
        pass


def test_connecting_without_a_connectable_site_is_a_setup_error(
    tmp_path: Path, sink: ProcessorSink
) -> None:
    (tmp_path / "none").mkdir()
    (tmp_path / "one").mkdir()
    adapter = Connecting(tmp_path / "none", Processor("mailing", sink.url_for("mailing")))
    harness = PrivacyHarness.open(adapter, sink, None, PrivacySettings(), "tests::toy")
    try:
        with pytest.raises(AdapterContractError, match="no site with connectable=True"):
            connectable_sites(harness)
    finally:
        harness.close()
    site = Processor("board", sink.url_for("board"), connectable=True)
    adapter = Connecting(tmp_path / "one", Processor("mailing", sink.url_for("mailing")), site)
    harness = PrivacyHarness.open(adapter, sink, None, PrivacySettings(), "tests::toy")
    try:
        assert connectable_sites(harness) == [site]
    finally:
        harness.close()
