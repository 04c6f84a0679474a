"""The floor under the egress guard: one PEP 578 audit hook for the whole process.

Patches see only what goes through the Python functions they replace. CPython
raises an audit event from C for every socket connect, send-to, bind and name
lookup, every process start and every ctypes symbol lookup, whoever called it:
``_socket`` directly, ``super(socket.socket, s).connect``, a bound method saved
before the guard started, a thread. Raising from the hook aborts the operation.

Audit hooks cannot be removed, so :func:`install` adds one hook once. It hands
each event it knows to the guards currently listening and returns at once when
none is. It never handles its own work: a thread-local flag marks the hook (and
any :func:`quietly` section of the guard's) as busy, so the files it writes and
the symbols it resolves raise events that are let through.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from . import native_calls
from .boundary import AF_PACKET, destination, is_address


class Listener(Protocol):
    """What a guard offers the hook."""

    def attempt(
        self, kind: str, host: str, port: int | None, detail: str = ""
    ) -> BaseException | None:
        """Record an attempt to reach ``host``; the exception to refuse it with, if outside."""

    def started_process(self, how: str, executable: str, argv: tuple[str, ...]) -> None:
        """Record that the module starts a process (``how``: the event that said so)."""

    def forked(self) -> None:
        """Called in a forked child: from now on, report to the parent."""

    def unreadable(self, event: str, error: Exception) -> None:
        """Record that an event could not be read: what it did is unknown."""


_listeners: tuple[Listener, ...] = ()
_listeners_lock = threading.Lock()
_busy = threading.local()
_installed: bool | None = None


def install() -> bool:
    """Add the process's hook if it is not there yet; False if the interpreter refused."""
    global _installed
    with _listeners_lock:
        if _installed is None:
            try:
                sys.addaudithook(_hook)
                if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
                    os.register_at_fork(after_in_child=_after_fork_in_child)
                _installed = True
            except Exception:  # another hook vetoed sys.addaudithook
                _installed = False
        return _installed


def listen(listener: Listener) -> None:
    global _listeners
    with _listeners_lock:
        _listeners = (*_listeners, listener)


def unlisten(listener: Listener) -> None:
    global _listeners
    with _listeners_lock:
        _listeners = tuple(x for x in _listeners if x is not listener)


@contextmanager
def quietly() -> Iterator[None]:
    """Let this thread's events through unjudged: the guard's own work, not the module's."""
    was = getattr(_busy, "on", False)
    _busy.on = True
    try:
        yield
    finally:
        _busy.on = was


def installed() -> bool:
    """Whether the hook is there, seeing every event from now on."""
    return _installed is True


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event in native_calls.RESOLVING_EVENTS and not getattr(_busy, "on", False):
        native_calls.resolved_one()  # whoever listens, but not the guard's own (native_calls.py)
    listeners = _listeners
    if not listeners:
        return
    handler = _HANDLERS.get(event)
    if handler is None or getattr(_busy, "on", False):
        return
    _busy.on = True
    try:
        handler(listeners, args)
    except Refusal as refusal:
        raise refusal.error from None
    except Exception as error:  # a bug here must not break the module, nor go unnoticed
        for listener in listeners:
            listener.unreadable(event, error)
    finally:
        _busy.on = False


def _after_fork_in_child() -> None:
    for listener in _listeners:
        listener.forked()


# --- what each event means ---------------------------------------------------------------


class Refusal(Exception):
    """Carries a listener's refusal out of a handler, so it is told from a handler's bug."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


def _judge(
    listeners: tuple[Listener, ...], kind: str, host: str, port: int | None, detail: str = ""
) -> None:
    refusals = [listener.attempt(kind, host, port, detail) for listener in listeners]
    refusal = next((r for r in refusals if r is not None), None)
    if refusal is not None:
        raise Refusal(refusal)


def _reach(kind: str) -> Callable[[tuple[Listener, ...], tuple[Any, ...]], None]:
    def handle(listeners: tuple[Listener, ...], args: tuple[Any, ...]) -> None:
        sock, address = args[0], args[1]
        if address is None:  # sendmsg on a connected socket: judged when it connected
            return
        family = getattr(sock, "family", None)
        target = destination(None if family is None else int(family), address)
        if target is not None:
            _judge(listeners, kind, *target)

    return handle


def _bind(listeners: tuple[Listener, ...], args: tuple[Any, ...]) -> None:
    """A packet socket bound to a real interface sends frames without any address."""
    sock, address = args[0], args[1]
    if AF_PACKET is not None and getattr(sock, "family", None) == AF_PACKET:
        target = destination(AF_PACKET, address)
        if target is not None:
            _judge(listeners, "bind", *target)


def _lookup(forward: bool) -> Callable[[tuple[Listener, ...], tuple[Any, ...]], None]:
    """Name lookups: the name itself leaves the machine, and may carry data. A forward
    lookup of an address literal asks nobody; its connection is judged instead."""

    def handle(listeners: tuple[Listener, ...], args: tuple[Any, ...]) -> None:
        name = args[0] if args else None
        port = args[1] if len(args) > 1 else None
        if isinstance(name, tuple):  # getnameinfo((host, port), flags)
            name, port = (name[0], name[1]) if len(name) > 1 else (name[0], None)
        if not isinstance(name, (str, bytes, bytearray)) or not name:
            return
        text = name if isinstance(name, str) else bytes(name).decode("utf-8", "replace")
        if forward and is_address(text):
            return
        _judge(listeners, "dns", text, port if isinstance(port, int) else _int(port))

    return handle


def _process(how: str, executable_at: int, argv_at: int) -> Callable[..., None]:
    def handle(listeners: tuple[Listener, ...], args: tuple[Any, ...]) -> None:
        argv = _argv(args[argv_at])
        executable = _text(args[executable_at]) if args[executable_at] is not None else ""
        for listener in listeners:
            listener.started_process(how, executable or (argv[0] if argv else "?"), argv)

    return handle


def _system(listeners: tuple[Listener, ...], args: tuple[Any, ...]) -> None:
    command = _text(args[0])
    for listener in listeners:
        listener.started_process("os.system", "/bin/sh", ("/bin/sh", "-c", command))


def _fork(listeners: tuple[Listener, ...], args: tuple[Any, ...]) -> None:
    for listener in listeners:
        listener.started_process("os.fork", sys.executable, tuple(sys.orig_argv))


def _native(
    check: Callable[[tuple[Any, ...]], str | bool | None], what: str
) -> Callable[[tuple[Listener, ...], tuple[Any, ...]], None]:
    def handle(listeners: tuple[Listener, ...], args: tuple[Any, ...]) -> None:
        found = check(args)
        if found:
            _judge(listeners, "native", "", None, what.format(found))

    return handle


def _argv(value: Any) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or hasattr(value, "__fspath__"):
        return (_text(value),)
    try:
        return tuple(_text(part) for part in value)
    except TypeError:
        return (_text(value),)


def _text(value: Any) -> str:
    try:
        return os.fsdecode(value)
    except TypeError:
        return str(value)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_HANDLERS: dict[str, Callable[[tuple[Listener, ...], tuple[Any, ...]], None]] = {
    "socket.connect": _reach("connect"),
    "socket.sendto": _reach("send"),
    "socket.sendmsg": _reach("send"),
    "socket.bind": _bind,
    "socket.getaddrinfo": _lookup(forward=True),
    "socket.gethostbyname": _lookup(forward=True),  # gethostbyname_ex raises this one too
    "socket.gethostbyaddr": _lookup(forward=False),
    "socket.getnameinfo": _lookup(forward=False),
    "subprocess.Popen": _process("subprocess.Popen", 0, 1),
    "os.system": _system,
    "os.exec": _process("os.exec", 0, 1),
    "os.posix_spawn": _process("os.posix_spawn", 0, 1),
    "os.spawn": _process("os.spawn", 1, 2),
    "os.fork": _fork,
    "os.forkpty": _fork,
    "ctypes.dlsym": _native(native_calls.looked_up, "{} looked up through ctypes"),
    "ctypes.dlopen": _native(native_calls.loaded_network_library, "{} loaded through ctypes"),
    "ctypes.call_function": _native(native_calls.called, "a libc network function called"),
}
