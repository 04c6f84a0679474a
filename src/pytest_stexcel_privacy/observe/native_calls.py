"""libc's network functions reached through ctypes, which no socket event reports.

``ctypes.CDLL(None).connect(fd, ...)`` goes straight to the kernel. CPython
raises no audit event when a foreign function is *called* (``ctypes.call_function``
fires only for the private ``_ctypes.call_function``), but it does when one is
*looked up*: ``ctypes.dlsym``. So the guard refuses looking up a network function
while a check runs, recognises the private call path by the function's address,
and, when a check starts, looks for network functions a module resolved earlier
and keeps (in its globals, or cached on a loaded library): calls through those
cannot be seen, so the check cannot pass.
"""

from __future__ import annotations

import functools
import sys
from types import ModuleType
from typing import Any

NETWORK_FUNCTIONS = frozenset(
    {
        "connect", "send", "sendto", "sendmsg", "sendmmsg",
        "getaddrinfo", "gethostbyname", "gethostbyname2", "gethostbyname_r",
        "gethostbyname2_r", "gethostbyaddr", "gethostbyaddr_r",
        "res_query", "res_search", "res_send", "res_nquery", "res_nsearch", "res_nsend",
    }
)  # fmt: skip

# Libraries whose whole purpose is talking to other machines.
NETWORK_LIBRARIES = ("libcurl", "curl")


def looked_up(args: tuple[Any, ...]) -> str | None:
    """The network function a ``ctypes.dlsym`` event looks up, if it is one."""
    name = args[1] if len(args) > 1 else None
    return name if isinstance(name, str) and name in NETWORK_FUNCTIONS else None


def loaded_network_library(args: tuple[Any, ...]) -> str | None:
    """The library a ``ctypes.dlopen`` event loads, if it exists to reach the network."""
    name = args[0] if args else None
    if not isinstance(name, str):
        return None
    base = name.rsplit("/", 1)[-1].lower()
    return name if base.startswith(NETWORK_LIBRARIES) else None


@functools.cache
def network_addresses() -> frozenset[int]:
    """Where libc's network functions are, resolved once (call from a quiet section)."""
    import ctypes

    process = ctypes.CDLL(None)
    addresses = set()
    for name in NETWORK_FUNCTIONS:
        try:
            function = getattr(process, name)
        except AttributeError:
            continue
        address = ctypes.c_void_p.from_buffer(function).value
        if address:
            addresses.add(address)
    return frozenset(addresses)


def called(args: tuple[Any, ...]) -> bool:
    """Whether a ``ctypes.call_function`` event calls a network function."""
    pointer = args[0] if args else None
    return isinstance(pointer, int) and pointer in network_addresses()


# The events by which a process can come to hold a native function it did not hold
# before: a symbol looked up by name, or a pointer read from an address. The audit hook
# counts them at all times, in a check or between checks (``resolved_one``), except in
# the guard's own quiet sections: its walk reads the address of every pointer it finds.
RESOLVING_EVENTS = frozenset({"ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.cdata"})
_resolved = 0


def resolved_one() -> None:
    """Called by the audit hook for each of ``RESOLVING_EVENTS``."""
    global _resolved
    _resolved += 1


class HeldFunctionsLook:
    """:func:`held_network_functions`, walked again only when its answer could differ.

    The walk reads every global of every loaded module: 7 to 12 ms with 1,600 modules, and
    it ran as every check began. Once a walk with the audit hook already counting has
    found nothing, a module can come to hold a network function only by resolving one,
    which the hook counts: until it does, the answer is still nothing. A pointer that
    reaches a module's globals another way raises no event: one made from a bare integer
    address, or one copied from where no walk looks (an object's attribute, a closure).
    A module keeping such a thing could as well call through it inside the check, which
    no walk saw either.

    The hook counts a lookup as it begins, before the module stores what it returns: a
    walk made just then, from another thread, finds nothing yet. So one walk finding
    nothing is not trusted alone: the answer stands once a second walk at the same count
    has found nothing too. That narrows the window, not closes it: a thread slower to
    store than two checks take to begin would go unseen until the next lookup.
    """

    def __init__(self) -> None:
        self._nothing_held_at: int | None = None  # the count when a watched walk found none
        self._confirmed_at: int | None = None  # ... and when a second one did

    def held(self, *, watched: bool) -> list[str]:
        """``watched``: the audit hook was installed before this call. Call from a quiet
        section, as :func:`held_network_functions`."""
        count = _resolved
        if watched and self._confirmed_at == count:
            return []
        found = held_network_functions()
        if watched and not found:
            self._confirmed_at = count if self._nothing_held_at == count else None
            self._nothing_held_at = count
        else:
            self._nothing_held_at = self._confirmed_at = None
        return found


def _is(value: object, kind: type) -> bool:
    """``isinstance`` by the real type: a lazy object's ``__class__`` (Django's
    ``staticfiles_storage``) would set it up, reading settings, just by being looked at."""
    return issubclass(type(value), kind)


def held_network_functions() -> list[str]:
    """Network functions resolved through ctypes and still held by an imported module.

    Looks in each module's globals, and in the functions cached on any loaded
    library found there (``CDLL`` keeps ``lib.connect`` once it was used).
    Call from a quiet section: resolving libc's addresses looks them up too.
    """
    if "_ctypes" not in sys.modules:
        return []
    import ctypes
    from _ctypes import CFuncPtr

    addresses = network_addresses()

    def address(function: Any) -> int | None:
        return ctypes.c_void_p.from_buffer(function).value

    # What each type is, asked once per type: a process holds some hundred thousand
    # globals, nearly all of a few dozen types, and this runs as every check starts.
    kinds: dict[type, tuple[bool, bool, bool]] = {}

    def kind(value: object) -> tuple[bool, bool, bool]:
        """Whether ``value`` is a library loader, a library, a function pointer."""
        return kind_of(type(value))

    def kind_of(of: type) -> tuple[bool, bool, bool]:
        known = kinds.get(of)
        if known is None:
            known = kinds[of] = (
                issubclass(of, ctypes.LibraryLoader),
                issubclass(of, ctypes.CDLL),
                issubclass(of, CFuncPtr),
            )
        return known

    plain: set[type] = set()  # the types found to be none of the three, this call

    held: list[str] = []
    for module_name, module in list(sys.modules.items()):
        if not _is(module, ModuleType):  # some packages put other objects there
            continue
        # A module holding only plain types is skipped by set operations in C, without a
        # Python step per global: only a module holding a loader, a library or a function
        # pointer is looked through.
        types = set(map(type, list(module.__dict__.values())))
        plain.update(of for of in types - plain if not any(kind_of(of)))
        if types <= plain:
            continue
        for name, value in list(module.__dict__.items()):
            kinds_of_value = kind(value)
            if not any(kinds_of_value):
                continue
            is_loader, _, is_function = kinds_of_value
            libraries = {name: value}
            if is_loader:  # ctypes.cdll.libc keeps its CDLL
                libraries = {f"{name}.{n}": v for n, v in list(vars(value).items())}
            for library_name, library in libraries.items():
                if _is(library, ctypes.CDLL):
                    held.extend(
                        f"{module_name}.{library_name}.{cached}"
                        for cached, function in list(vars(library).items())
                        if _is(function, CFuncPtr)
                        and (cached in NETWORK_FUNCTIONS or address(function) in addresses)
                    )
            if is_function and address(value) in addresses:
                held.append(f"{module_name}.{name}")
    return held
