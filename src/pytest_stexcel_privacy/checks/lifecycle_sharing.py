"""The lifecycle's third parties: connecting and disconnecting sites, and what providers get.

A base of ``PrivacyLifecycle`` holding only these rules, so the promises of
"Sharing Information with Third Parties" and "Disconnecting your Stexcel
Account from Third Party Websites" are kept over whole lives too: after every
step, each request the provider sink recorded meanwhile is judged by
``sharing_rules`` (a request made by ``delete()`` may carry what identifies the
person), and none carrying a member's data may reach a site they disconnected
and did not connect again.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from ..contract.adapter import Processor
from ..harness.holder import PrivacyHarness
from ..harness.state_machines import GENERATED
from ..observe.mail_sink import MailSink
from ..observe.processor_sink import ProcessorSink, RecordedRequest
from ..people.needles import Needle
from ..scan.matcher import NeedleMatcher
from .adapter_machine import AdapterMachine
from .people_model import Member
from .sharing_rules import addressed_to, recipient, sharing_problems

CONNECT, DISCONNECT = "connect_third_party", "disconnect_third_party"


class SiteSharingMachine(AdapterMachine):
    def __init__(self, harness: PrivacyHarness, sink: MailSink, origin: str = GENERATED) -> None:
        super().__init__(harness, sink, origin)
        providers: ProcessorSink | None = harness.processor_sink  # None: a harness of a test
        self.provider_mark = providers.mark() if providers is not None else 0
        declared = harness.adapter.processors() if providers is not None else []
        # Processors the sink cannot see are the single check's set-up error, not judged here.
        observable = providers is not None and all(
            p.url.startswith(providers.url) for p in declared
        )
        self.processors: list[Processor] = declared if observable else []
        can_connect = all(harness.adapter.implements(m) for m in (CONNECT, DISCONNECT))
        self.sites = [p for p in self.processors if p.connectable] if can_connect else []
        self.linked: set[tuple[str, str]] = set()  # (member label, site name)
        self.cut: set[tuple[str, str]] = set()  # disconnected, not connected again

    @rule(index=st.integers(0, 7), site=st.integers(0, 3))
    def connect_site(self, index: int, site: int) -> None:
        member = self._pick(index)
        if member is None or not self.sites:
            return
        name = self.sites[site % len(self.sites)].name
        self.steps.append(f"{CONNECT}({member.label}, {name})")
        self._call(CONNECT, member.account, name)
        self.linked.add((member.label, name))
        self.cut.discard((member.label, name))

    @rule(index=st.integers(0, 7))
    def disconnect_site(self, index: int) -> None:
        member = self._pick(index)
        linked = sorted(n for label, n in self.linked if member and label == member.label)
        if member is None or not linked:
            return
        self.steps.append(f"{DISCONNECT}({member.label}, {linked[0]})")
        self._call(DISCONNECT, member.account, linked[0])
        self.linked.discard((member.label, linked[0]))
        self.cut.add((member.label, linked[0]))

    @invariant()
    def providers_get_only_what_is_declared(self) -> None:
        if not self.processors:
            return
        providers = self.harness.processor_sink
        mark = providers.mark()
        requests = providers.since(self.provider_mark)[: mark - self.provider_mark]
        self.provider_mark = mark
        matcher = NeedleMatcher(self._needles(self.members))
        deleting = self._step() == "delete()"
        for request in requests:
            to = recipient(request, self.processors, providers.url)
            problems = sharing_problems(request, to, matcher, deleting=deleting)
            if problems:
                self.fail("third-party-sharing", "a provider received what it may not", problems)
            for label, site in sorted(self.cut):
                self._judge_cut(request, label, site, providers.url)

    def _judge_cut(self, request: RecordedRequest, label: str, site: str, sink_url: str) -> None:
        (url,) = [p.url for p in self.sites if p.name == site]
        if not addressed_to(request, url, sink_url):
            return
        member = next(m for m in self.members if m.label == label)
        evidence = request.evidence(NeedleMatcher(self._needles([member])))
        if evidence is not None:
            self.fail(
                "account-disconnect",
                f"{site} still received {label}'s data after they disconnected it",
                [f"during {self._step()}", evidence],
            )

    def _needles(self, members: list[Member]) -> list[Needle]:
        """The needles of every profile ``members`` had, but what a live member holds now
        (the same e-mail signed up again is theirs, not the deleted owner's: the canary
        inside it too, hence a search of the live values, not a comparison of needles)."""
        live = b"\n".join(
            n.key for m in self.members if m.alive for p in m.versions for n in p.needles
        )
        return [
            n
            for m in members
            for p in m.versions
            for n in p.needles
            if m.alive or n.key not in live
        ]
