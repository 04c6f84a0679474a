"""Redis: every key, by SCAN (never KEYS), every type, key names included.

Values are read a SCAN batch at a time, over a connection of the scanner's own
(``redis_wire.py``): the batch's GETs and the next SCAN in one round trip, then
the keys GET refused as not strings by TYPE and their type's command. Strings,
hashes, lists, sets, sorted sets (members and scores), streams (every entry's
fields) and RedisJSON documents. Without hiredis (the ``redis`` extra installs it)
or under RESP3, redis-py's pipeline reads the same. A key's expiry is part of the
evidence ("expires in 3 days" is still residue today), asked for the keys that
hold a needle. A key of a type this scanner does not know stops the scan with an
error naming it, rather than being skipped; so does a command the server refuses.
A key whose type changes between its TYPE and its read (an application writing
meanwhile) is read once more; changed again, it stops the scan.
Every value is also searched inside the encodings it may be in (``decoders.py``:
signed sessions, base64, zlib, msgpack, pickles ...).
"""

from __future__ import annotations

import queue
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from itertools import compress
from typing import Any

from ..contract.stores import RedisStore
from ..errors import StoreUnreadable
from ..findings.masking import mask
from ..people.needles import Needle
from .decoders import (
    ContainerUnreadable,
    expand_each,
    might_be_encoded_each,
    store_decoders,
)
from .handoffs import quick_handoffs
from .matcher import NeedleMatcher
from .redis_wire import Wire, WireClosed, packed
from .residue import Hit

BATCH = 2000  # keys per SCAN (a batch's commands keep the server busy a few ms)
READ_AHEAD = 2  # batches read before they are searched
# Each key's type and value, in the shapes RESP2 replies them.
Fetched = tuple[list[str], list[Any]]
# A key's expiry (PTTL, ms) for each of the keys given, asked only of keys with a needle.
Expiries = Callable[[list[bytes]], list[Any]]


class RedisScanner:
    def __init__(self, store: RedisStore) -> None:
        self.store = store
        self.client: Any = None
        self.use_wire = True  # False: redis-py's pipeline reads every batch
        self._matcher: NeedleMatcher | None = None  # the scan's, to mask keys in errors
        self.decoders = store_decoders(store.name, store.decoders)

    def open(self) -> None:
        if self.client is not None:
            return
        try:
            import redis
        except ImportError as exc:
            raise StoreUnreadable(
                self.store.name,
                "Redis stores need redis-py: pip install 'pytest-stexcel-privacy[redis]'",
            ) from exc
        # RESP2 unless the URL asks otherwise: the shapes ``redis_wire`` reads
        client = redis.Redis.from_url(
            self.store.url, socket_timeout=30, socket_connect_timeout=5, protocol=2
        )
        # values as the server holds them, even where the URL asks for text
        client.connection_pool.connection_kwargs["decode_responses"] = False
        # a stream entry as replied: redis-py's dict would keep one of a repeated field
        client.set_response_callback("XRANGE", _as_is)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise StoreUnreadable(self.store.name, f"cannot connect: {exc}") from exc
        self.client = client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None

    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]:
        import redis

        self.open()
        self._matcher = matcher
        try:
            prefix = f"{self.store.name}: "
            for keys, fetched in self._read_ahead():
                yield from self._batch(matcher, keys, fetched, self._expiries)
                scanned += [prefix + key.decode("utf-8", "backslashreplace") for key in keys]
        except (redis.RedisError, WireClosed) as exc:
            raise StoreUnreadable(self.store.name, f"scan stopped: {exc}") from exc
        finally:
            self._matcher = None

    def _read_ahead(self) -> Iterator[tuple[list[bytes], Fetched]]:
        """Each SCAN batch with its keys' types and values, the next batches read by a
        thread while this one is searched: the server reads while Python searches."""
        ready: queue.Queue[tuple[list[bytes], Fetched] | BaseException | None] = queue.Queue(
            maxsize=READ_AHEAD
        )
        stop = threading.Event()

        def put(item: tuple[list[bytes], Fetched] | BaseException | None) -> bool:
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False  # the scan ended early (an error, or its caller stopped)

        def read() -> None:
            try:
                for batch in self._batches():
                    if not put(batch):
                        return
                put(None)
            except BaseException as exc:  # raised again in the scanning thread
                put(exc)

        reader = threading.Thread(target=read, name=f"redis-scan {self.store.name}", daemon=True)
        with quick_handoffs():
            reader.start()
            try:
                while (item := ready.get()) is not None:
                    if isinstance(item, BaseException):
                        raise item
                    yield item
            finally:
                stop.set()
                reader.join()

    def _batches(self) -> Iterator[tuple[list[bytes], Fetched]]:
        wire = Wire.open(self.client) if self.use_wire else None
        if wire is None:
            batch: list[bytes] = []
            for key in self.client.scan_iter(count=BATCH):
                batch.append(key)
                if len(batch) >= BATCH:
                    yield batch, self._fetch_by_pipeline(batch)
                    batch = []
            if batch:
                yield batch, self._fetch_by_pipeline(batch)
            return
        try:
            yield from self._batches_by_wire(wire)
        finally:
            wire.close()

    def _batches_by_wire(self, wire: Wire) -> Iterator[tuple[list[bytes], Fetched]]:
        """Each SCAN batch, its strings read by GET in the round trip that asks for the
        next batch; the keys GET refuses (WRONGTYPE) by TYPE, then their type's command."""
        (listed,) = wire.replies(_scan_command(b"0"), 1)
        cursor, keys = self._listed(listed)
        while keys or cursor != b"0":
            more = cursor != b"0"
            replies = wire.replies(
                packed(b"GET", keys) + (_scan_command(cursor) if more else b""),
                len(keys) + more,
            )
            if more:
                cursor, after = self._listed(replies.pop())
            else:
                cursor, after = b"0", []
            if keys:
                yield keys, self._typed(wire, keys, replies)
            keys = after

    def _listed(self, reply: Any) -> tuple[bytes, list[bytes]]:
        """SCAN's reply as (next cursor, keys); a refusal stops the scan."""
        if isinstance(reply, Exception):
            raise StoreUnreadable(self.store.name, f"SCAN was refused: {reply}")
        match reply:
            case [bytes() as cursor, list() as keys]:
                return cursor, keys
        raise StoreUnreadable(self.store.name, f"SCAN replied {str(reply)[:80]!r}, not a batch")

    def _typed(self, wire: Wire, keys: list[bytes], values: list[Any]) -> Fetched:
        """The batch's kinds and values, from GET's ``values``: the keys it refused as not
        strings are asked their TYPE, then read by their type's command."""
        kinds = ["string"] * len(keys)
        others = [i for i, value in enumerate(values) if type(value) is not bytes]
        for index in others:
            if values[index] is None:
                kinds[index] = "none"  # gone since SCAN listed it
        # the rest GET refused: WRONGTYPE, or a refusal its own command meets again
        others = [index for index in others if kinds[index] != "none"]
        for last in (False, True):  # a key retyped between TYPE and its read: once more
            others = self._read_typed(wire, keys, kinds, values, others, last)
        return kinds, values

    def _read_typed(
        self,
        wire: Wire,
        keys: list[bytes],
        kinds: list[str],
        values: list[Any],
        others: list[int],
        last: bool,
    ) -> list[int]:
        """Read keys ``others`` by TYPE and their type's command into ``kinds`` and
        ``values``; answer those whose type changed in between (WRONGTYPE), unless
        ``last``: then that stops the scan, like any other refusal."""
        if not others:
            return []
        asked = [keys[i] for i in others]
        types = wire.replies(packed(b"TYPE", asked), len(asked))
        for index, kind in zip(others, types, strict=True):
            if isinstance(kind, Exception):
                raise self._refused(keys[index], "TYPE", kind)
            kinds[index] = kind = kind.decode()
            values[index] = None
            self._refuse_unknown(keys[index], kind)
        by_kind: dict[str, list[int]] = {}
        for index in others:
            if kinds[index] != "none":
                by_kind.setdefault(kinds[index], []).append(index)
        order = [index for indexes in by_kind.values() for index in indexes]
        commands = b"".join(
            packed(COMMANDS[kind][0], [keys[i] for i in indexes], *COMMANDS[kind][1:])
            for kind, indexes in by_kind.items()
        )
        retyped: list[int] = []
        for index, value in zip(order, wire.replies(commands, len(order)), strict=True):
            if isinstance(value, Exception):
                retyped.append(self._retyped(keys[index], kinds[index], value, last, index))
            else:
                values[index] = value
        return retyped

    def _retyped(self, key: bytes, kind: str, error: Exception, last: bool, index: int) -> int:
        """``index``, to be read once more, when ``error`` says the key's type changed
        since its TYPE (WRONGTYPE) and this was not the ``last`` read; otherwise the
        refusal stops the scan."""
        if not last and str(error).startswith("WRONGTYPE"):
            return index
        raise self._refused(key, COMMANDS[kind][0].decode(), error)

    def _refused(self, key: bytes, command: str, error: Exception) -> StoreUnreadable:
        """A command the server would not answer for ``key`` (an ACL, a cluster's slot, a
        key whose type changed while it was read): the scan stops, naming both."""
        return StoreUnreadable(
            self.store.name,
            f"{command} of key {self._shown(key)!r} was refused ({error}); it was not scanned",
        )

    def _expiries(self, keys: list[bytes]) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.pttl(key)
        return self._executed(pipe, keys)

    def _executed(self, pipe: Any, keys: list[bytes]) -> list[Any]:
        """The pipeline's replies; its error names a command and its key, so the key is
        masked there as evidence would mask it."""
        import redis

        try:
            return list(pipe.execute())
        except redis.RedisError as exc:
            message = str(exc)
            for key in keys:
                shown = self._shown(key)
                for raw in (_show(key), key.decode("utf-8", "replace")):
                    if raw != shown and raw in message:
                        message = message.replace(raw, shown)
            raise StoreUnreadable(self.store.name, f"scan stopped: {message}") from exc

    def _refuse_unknown(self, key: bytes, kind: str) -> None:
        """A key of a type this scanner cannot read stops the scan, naming it."""
        if kind not in COMMANDS and kind != "none":  # none: gone since SCAN listed it
            raise StoreUnreadable(
                self.store.name,
                f"key {self._shown(key)!r} has type {kind!r}, which this scanner cannot read; "
                "it was not scanned",
            )

    def _fetch_by_pipeline(self, keys: list[bytes]) -> Fetched:
        kinds, values = ["none"] * len(keys), [None] * len(keys)
        todo = list(range(len(keys)))
        for last in (False, True):  # a key retyped between TYPE and its read: once more
            todo = self._read_by_pipeline(keys, kinds, values, todo, last)
        return kinds, values

    def _read_by_pipeline(
        self, keys: list[bytes], kinds: list[str], values: list[Any], todo: list[int], last: bool
    ) -> list[int]:
        """``_read_typed`` by redis-py's pipeline, its replies reshaped as RESP2's."""
        if not todo:
            return []
        asked = [keys[i] for i in todo]
        pipe = self.client.pipeline(transaction=False)
        for key in asked:
            pipe.type(key)
        for index, kind in zip(todo, self._executed(pipe, asked), strict=True):
            kinds[index] = kind = kind.decode() if isinstance(kind, bytes) else str(kind)
            self._refuse_unknown(keys[index], kind)
        pipe = self.client.pipeline(transaction=False)
        for index in todo:
            FETCHERS.get(kinds[index], lambda pipe, key: pipe.exists(key))(pipe, keys[index])
        retyped: list[int] = []
        for index, value in zip(todo, pipe.execute(raise_on_error=False), strict=True):
            if isinstance(value, Exception):
                retyped.append(self._retyped(keys[index], kinds[index], value, last, index))
            else:
                values[index] = _as_replied(kinds[index], value)
        return retyped

    def _batch(
        self, matcher: NeedleMatcher, keys: list[bytes], fetched: Fetched, expiries: Expiries
    ) -> Iterator[Hit]:
        kinds, values = fetched
        split = _Split(kinds, values)
        flat = split.parts
        encoded = self._encoded(matcher, keys, kinds, values, split)
        # One search of the whole batch (one call: each releases the GIL, which the reading
        # thread then takes); only the keys with a needle are looked at again, for evidence.
        held = matcher.holding([*keys, *flat, *(layer for _, _, layer in encoded)])
        in_key, in_part = held[: len(keys)], held[len(keys) : len(keys) + len(flat)]
        held_parts = set(compress(range(len(flat)), in_part))
        inside: dict[int, list[tuple[str, bytes]]] = {}
        for part_index, path, layer in compress(encoded, held[len(keys) + len(flat) :]):
            inside.setdefault(part_index, []).append((path, layer))
        by_key: dict[int, set[int]] = {}
        for part_index in (*held_parts, *inside):
            by_key.setdefault(split.owner(part_index), set()).add(part_index)
        ordered = sorted({*compress(range(len(keys)), in_key), *by_key})
        asked = expiries([keys[i] for i in ordered]) if ordered else []
        ttls = dict(zip(ordered, asked, strict=True))
        for index in ordered:
            key, kind = keys[index], kinds[index]
            expiry = _expiry(ttls[index])
            name, in_name = self._name(matcher, key) if in_key[index] else (_show(key), [])
            yield from (Hit(self.store.name, name, f"key name{expiry}", n) for n in in_name)
            labels = _part_names(kind, values[index])
            for part_index in sorted(by_key.get(index, ())):
                part = labels[part_index - split.first(index)]
                data = flat[part_index]
                for _, needles in matcher.search(data) if part_index in held_parts else ():
                    locator = f"{kind} {part}{expiry}".strip()
                    yield from (Hit(self.store.name, name, locator, n) for n in needles)
                for path, layer in inside.get(part_index, ()):
                    for _, needles in matcher.search(layer):
                        locator = f"{kind} {part}, in {path}{expiry}"
                        yield from (Hit(self.store.name, name, locator, n) for n in needles)

    def _encoded(
        self,
        matcher: NeedleMatcher,
        keys: list[bytes],
        kinds: list[str],
        values: list[Any],
        split: _Split,
    ) -> list[tuple[int, str, bytes]]:
        """What the batch's parts hold encoded, as (part's index, path, bytes): the few
        pieces a decoder would sniff are picked out of the batch at once, and a piece
        seen twice (a stream's entries often repeat) is decoded once."""
        sniffed = list(
            compress(
                zip(split.piece_parts, split.pieces, strict=True),
                might_be_encoded_each(split.pieces, self.decoders),
            )
        )
        first_part: dict[bytes, int] = {}  # each piece, where it first appears
        for part_index, piece in sniffed:
            first_part.setdefault(piece, part_index)
        seen: dict[bytes, list[tuple[str, bytes]]] = {}
        layers = expand_each(list(first_part), self.decoders)
        for piece, part_index in first_part.items():
            try:
                seen[piece] = next(layers)
            except ContainerUnreadable as exc:
                index = split.owner(part_index)
                kind, key = kinds[index], keys[index]
                part = _part_names(kind, values[index])[part_index - split.first(index)]
                raise StoreUnreadable(
                    self.store.name, f"key {self._name(matcher, key)[0]!r} {kind} {part}: {exc}"
                ) from exc
        return [
            (part_index, path, layer)
            for part_index, piece in sniffed
            for path, layer in seen[piece]
        ]

    def _shown(self, key: bytes) -> str:
        """``key`` as an error names it: masked if it holds a needle of the scan's."""
        return _show(key) if self._matcher is None else self._name(self._matcher, key)[0]

    def _name(self, matcher: NeedleMatcher, key: bytes) -> tuple[str, list[Needle]]:
        """How evidence names ``key`` (masked if it holds a needle), and the needles in it."""
        in_name = [n for _, needles in matcher.search(key) for n in needles]
        return (mask(_show(key)) if in_name else _show(key)), in_name


def _as_replied(kind: str, value: Any) -> Any:
    """A value in the shape redis-py's pipeline gives it, in RESP2's: a hash or a stream
    entry as a flat field, value list, a sorted set as member, score."""
    if kind == "hash":
        return [item for pair in value.items() for item in pair]
    if kind == "set":
        return list(value)
    if kind == "zset":
        return [item for pair in value for item in pair]
    if kind == "stream":  # XRANGE's reply as the server sent it (``_as_is``)
        return [[entry_id, list(fields)] for entry_id, fields in value]
    return value


def _as_is(response: Any, **options: Any) -> Any:
    return response


# Each type's read-only command: name first, then what follows the key.
COMMANDS: dict[str, tuple[bytes, ...]] = {
    "string": (b"GET",),
    "hash": (b"HGETALL",),
    "list": (b"LRANGE", b"0", b"-1"),
    "set": (b"SMEMBERS",),
    "zset": (b"ZRANGE", b"0", b"-1", b"WITHSCORES"),
    "stream": (b"XRANGE", b"-", b"+"),
    "ReJSON-RL": (b"JSON.GET",),
}


# The same for redis-py's pipeline, whose replies ``_as_replied`` reshapes.
FETCHERS: dict[str, Any] = {
    "string": lambda pipe, key: pipe.get(key),
    "hash": lambda pipe, key: pipe.hgetall(key),
    "list": lambda pipe, key: pipe.lrange(key, 0, -1),
    "set": lambda pipe, key: pipe.smembers(key),
    "zset": lambda pipe, key: pipe.zrange(key, 0, -1, withscores=True),
    "stream": lambda pipe, key: pipe.xrange(key),
    "ReJSON-RL": lambda pipe, key: pipe.execute_command("JSON.GET", key),
}


def _scan_command(cursor: bytes) -> bytes:
    return packed(b"SCAN", [cursor], b"COUNT", str(BATCH).encode())


class _Split:
    """A batch's values as the parts searched (``_part_names`` names them), and the
    pieces of the parts a decoder may sniff: a hash's or a stream entry's field values
    (searched as ``name=value``), a sorted set's members, any other part whole. The
    strings, most keys of most caches, come first; then each other key's parts."""

    def __init__(self, kinds: list[str], values: list[Any]) -> None:
        strings = [i for i, kind in enumerate(kinds) if kind == "string"]
        self._strings = [i for i in strings if values[i] is not None]  # gone: no parts
        parts: list[bytes] = [values[i] for i in self._strings]
        pieces = parts[:]
        piece_parts = list(range(len(parts)))
        self._starts: list[int] = []  # each other key's first part, and the key
        self._others: list[int] = []
        for index in [i for i, kind in enumerate(kinds) if kind not in ("string", "none")]:
            kind, value, first = kinds[index], values[index], len(parts)
            self._starts.append(first)
            self._others.append(index)
            if kind in ("list", "set"):
                parts += value
                pieces += value
                piece_parts += range(first, first + len(value))
            elif kind == "hash":
                items = value[1::2]
                parts += map(b"=".join, zip(value[0::2], items, strict=True))
                pieces += items
                piece_parts += range(first, first + len(items))
            elif kind == "zset":
                members = value[0::2]
                scores = [repr(float(score)).encode() for score in value[1::2]]
                parts += map(b" ".join, zip(members, scores, strict=True))
                pieces += members
                piece_parts += range(first, first + len(members))
            elif kind == "stream":
                for offset, (_, fields) in enumerate(value, start=first):
                    items = fields[1::2]
                    parts.append(b" ".join(map(b"=".join, zip(fields[0::2], items, strict=True))))
                    pieces += items
                    piece_parts += [offset] * len(items)
            elif value is not None:  # a RedisJSON document
                parts.append(value if isinstance(value, bytes) else str(value).encode())
                pieces.append(parts[-1])
                piece_parts.append(first)
        self.parts, self.pieces, self.piece_parts = parts, pieces, piece_parts

    def owner(self, part: int) -> int:
        """The index of the key whose part ``part`` is."""
        if part < len(self._strings):
            return self._strings[part]
        return self._others[bisect_right(self._starts, part) - 1]

    def first(self, index: int) -> int:
        """The first part of key ``index`` (a string's only part)."""
        at = bisect_left(self._strings, index)
        if at < len(self._strings) and self._strings[at] == index:
            return at
        return self._starts[bisect_left(self._others, index)]


def _part_names(kind: str, value: Any) -> list[str]:
    """What evidence calls each of ``_flatten``'s parts."""
    if kind == "none":
        return []
    if kind == "hash":
        return [f"field {_show(field)}" for field in value[0::2]]
    if kind == "list":
        return [f"item {index}" for index in range(len(value))]
    if kind == "set":
        return ["member"] * len(value)
    if kind == "zset":
        return ["member"] * (len(value) // 2)
    if kind == "stream":
        return [f"entry {_show(entry_id)}" for entry_id, _ in value]
    return [] if value is None else ["value"]


def _expiry(ttl_ms: int) -> str:
    if ttl_ms is None or ttl_ms < 0:
        return ""
    seconds = ttl_ms / 1000
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f", expires in {seconds / size:.1f} {unit}"
    return f", expires in {seconds:.0f} s"


def _show(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")
