"""Who a request to the provider sink went to, and what it may carry there.

"Sharing Information with Third Parties" lets the module share data with
partners for a few purposes and never sell its customer list; a declared
``Processor`` says which purpose each serves and, optionally, which of a
person's fields it needs. These rules judge one recorded request against
those declarations; the ``deletion-processors``, ``third-party-sharing`` and
``account-disconnect`` checks share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..contract.adapter import STATISTICAL_ANALYSIS, Processor
from ..errors import AdapterContractError
from ..findings.evidence import Evidence
from ..findings.outcomes import NotApplicable
from ..harness.holder import PrivacyHarness
from ..observe.processor_sink import RecordedRequest
from ..people.needles import Needle
from ..scan.matcher import NeedleMatcher

# A request carrying the values of this many distinct persons is a customer list: only a
# processor declared ``bulk=True`` may receive one. Two could be a referral or a shared
# order; three is a list.
BULK_PERSONS = 3

# Fields that say who someone is on their own. Statistical analysis needs none of them,
# so a statistics processor receives them only where its ``fields`` name them.
DIRECT_IDENTIFIERS: tuple[str, ...] = ("email", "first_name", "last_name", "phone", "street")


def observable_processors(harness: PrivacyHarness) -> list[Processor]:
    """The declared processors, each configured at an address of the suite's sink.

    NOT APPLICABLE without any; a processor elsewhere is a set-up error naming it,
    as the suite could not see what reaches it.
    """
    processors = harness.adapter.processors()
    if not processors:
        raise NotApplicable(f"{harness.adapter.name}.processors() declares no providers")
    sink = harness.processor_sink
    for processor in processors:
        if not processor.url.startswith(sink.url):
            raise AdapterContractError(
                f"processor {processor.name!r} is configured at {processor.url}, which the "
                "suite cannot observe; point the module at "
                f"processor_sink.url_for({processor.name!r}) in the privacy_adapter fixture"
            )
    return processors


def addressed_to(request: RecordedRequest, url: str, sink_url: str) -> bool:
    """Whether ``request`` went to ``url`` or under it (``/mailing`` is not ``/mailings``)."""
    base = url.rstrip("/")
    full = sink_url + request.path
    return full == base or full.startswith((base + "/", base + "?"))


def recipient(
    request: RecordedRequest, processors: Sequence[Processor], sink_url: str
) -> Processor | None:
    """The declared processor ``request`` went to (the most specific URL), or None."""
    matching = [p for p in processors if addressed_to(request, p.url, sink_url)]
    return max(matching, key=lambda p: len(p.url), default=None)


def carried(request: RecordedRequest, matcher: NeedleMatcher) -> list[Needle]:
    """Every needle of the matcher's persons that ``request`` carried."""
    return list({n for _, group in matcher.search(request.searchable) for n in group})


def distinct_persons(found: list[Needle], matcher: NeedleMatcher) -> set[str]:
    """Whose values ``found`` are, counting a value several persons share (one e-mail
    address signed up again after a deletion) as one person, not each of them."""
    owners: dict[bytes, set[str]] = {}
    for needle in matcher.needles:
        owners.setdefault(needle.key, set()).add(needle.person)
    persons = {n.person for n in found if len(owners[n.key]) == 1}
    for needle in found:
        if not owners[needle.key] & persons:
            persons.add(min(owners[needle.key]))  # the value of one of them, whoever
    return persons


def sharing_problems(
    request: RecordedRequest,
    processor: Processor | None,
    matcher: NeedleMatcher,
    *,
    deleting: bool = False,
) -> list[Evidence]:
    """What ``request`` broke of "Sharing Information with Third Parties", as evidence.

    A request while ``deleting`` may carry whatever identifies the person to the
    processor: the policy directs those requests, so only its recipient and its size are
    judged there.
    """
    found = carried(request, matcher)
    if not found:
        return []
    persons = distinct_persons(found, matcher)
    problems: list[Evidence] = []
    if processor is None:
        problems.append(
            _about(
                request,
                found,
                f"{len(persons)} person(s)' data sent to a recipient no declared processor covers",
            )
        )
        return problems
    if len(persons) >= BULK_PERSONS and not processor.bulk:
        problems.append(
            _about(
                request,
                found,
                f"{len(persons)} persons' data in one request to {processor.name}, which is "
                "not declared for bulk work (if that processor does bulk work for you, "
                f"declare Processor({processor.name!r}, ..., bulk=True))",
            )
        )
    if deleting:
        return problems
    for field in sorted(unneeded(processor, {n.field for n in found})):
        problems.append(
            _about(
                request,
                [n for n in found if n.field == field],
                f"{processor.name} ({_purpose(processor)}) received {field}, "
                + (
                    f"which its declared fields {sorted(processor.fields)} do not name"
                    if processor.fields is not None
                    else "a direct identifier statistical analysis does not need (name it in "
                    "the processor's fields= if it does)"
                ),
            )
        )
    return problems


def unneeded(processor: Processor, fields: set[str]) -> set[str]:
    """Which of ``fields`` the processor's purpose does not need: those its declared
    ``fields`` leave out; without a declaration, the direct identifiers for statistical
    analysis, and none for any other purpose."""
    if processor.fields is not None:
        return fields - set(processor.fields)
    if processor.purpose == STATISTICAL_ANALYSIS:
        return fields & set(DIRECT_IDENTIFIERS)
    return set()


def _purpose(processor: Processor) -> str:
    return f"purpose {processor.purpose}" if processor.purpose else "no declared purpose"


def _about(request: RecordedRequest, needles: list[Needle], what: str) -> Evidence:
    evidence = request.evidence(NeedleMatcher(needles))
    if evidence is None:  # the needles came from this very request
        raise AssertionError("a request lost the values it was found to carry")
    return replace(evidence, text=f"{what}: {evidence.text}")
