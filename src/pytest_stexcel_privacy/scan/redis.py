"""Redis: every key, by SCAN (never KEYS), every type, key names included.

Values are fetched a SCAN batch at a time, by one read-only Lua script per
batch (``FETCH_SCRIPT``), or pipelined where the server refuses scripts:
strings, hashes, lists, sets, sorted sets (members and scores), streams (every
entry's fields) and RedisJSON documents. The ``redis`` extra installs hiredis,
which parses the replies about 1.4 times faster than redis-py alone. A key's expiry is part of the
evidence: "expires in 3 days" is still residue today. A key of a type this
scanner does not know stops the scan with an error naming it, rather than
being skipped. Every value is also searched inside the encodings it may be in
(``decoders.py``: signed sessions, base64, zlib, msgpack, pickles ...).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from itertools import accumulate, compress
from typing import Any

from ..contract.stores import RedisStore
from ..errors import StoreUnreadable
from ..findings.masking import mask
from ..people.needles import Needle
from .decoders import (
    ContainerUnreadable,
    expand,
    might_be_encoded_each,
    store_decoders,
)
from .matcher import NeedleMatcher
from .residue import Hit

BATCH = 2000  # keys per SCAN and per script call (blocking the server about 10 ms)
READ_AHEAD = 2  # batches read before they are searched
# Each key's type, expiry (ms) and value, in the shapes the script replies them.
Fetched = tuple[list[str], list[Any], list[Any]]


class RedisScanner:
    def __init__(self, store: RedisStore) -> None:
        self.store = store
        self.client: Any = None
        self.script: Any = None  # one call per batch; None once the server refuses it
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
        client = redis.Redis.from_url(self.store.url, socket_timeout=30, socket_connect_timeout=5)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise StoreUnreadable(self.store.name, f"cannot connect: {exc}") from exc
        self.client = client
        self.script = client.register_script(FETCH_SCRIPT)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None

    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]:
        import redis

        self.open()
        try:
            for keys, fetched in self._read_ahead():
                yield from self._batch(matcher, keys, fetched)
                scanned.extend([f"{self.store.name}: {_show(key)}" for key in keys])
        except redis.RedisError as exc:
            raise StoreUnreadable(self.store.name, f"scan stopped: {exc}") from exc

    def _read_ahead(self) -> Iterator[tuple[list[bytes], Fetched]]:
        """Each SCAN batch with its keys' types, expiries and values, the next batches
        read by a thread while this one is searched: the server runs the script while
        Python searches (about half of the scan's time each when they took turns)."""
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
                batch: list[bytes] = []
                for key in self.client.scan_iter(count=BATCH):
                    batch.append(key)
                    if len(batch) >= BATCH:
                        if not put((batch, self._fetch(batch))):
                            return
                        batch = []
                if batch and not put((batch, self._fetch(batch))):
                    return
                put(None)
            except BaseException as exc:  # raised again in the scanning thread
                put(exc)

        reader = threading.Thread(target=read, name=f"redis-scan {self.store.name}", daemon=True)
        reader.start()
        try:
            while (item := ready.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            reader.join()

    def _fetch(self, keys: list[bytes]) -> Fetched:
        """Each key's type, expiry (ms) and value, as the script replies them."""
        import redis

        if self.script is not None:
            try:
                kinds, ttls, values = _from_script(self.script(keys=keys))
            except redis.ResponseError:
                # scripting refused (an ACL, a cluster's slots) or a value it cannot read:
                # the pipeline reads each key on its own, and names the one that fails
                self.script = None
            else:
                for key, kind in zip(keys, kinds, strict=True):
                    self._refuse_unknown(key, kind)
                return kinds, ttls, values
        return self._fetch_by_pipeline(keys)

    def _refuse_unknown(self, key: bytes, kind: str) -> None:
        """A key of a type this scanner cannot read stops the scan, naming it."""
        if kind not in FETCHERS and kind != "none":  # none: gone since SCAN listed it
            raise StoreUnreadable(
                self.store.name,
                f"key {_show(key)!r} has type {kind!r}, which this scanner cannot read; "
                "it was not scanned",
            )

    def _fetch_by_pipeline(self, keys: list[bytes]) -> Fetched:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.type(key)
            pipe.pttl(key)
        answers = pipe.execute()
        kinds = [k.decode() if isinstance(k, bytes) else str(k) for k in answers[0::2]]
        ttls = answers[1::2]
        pipe = self.client.pipeline(transaction=False)
        for key, kind in zip(keys, kinds, strict=True):
            self._refuse_unknown(key, kind)
            FETCHERS.get(kind, lambda pipe, key: pipe.exists(key))(pipe, key)
        values = iter(pipe.execute())
        return kinds, ttls, [_as_replied(kind, next(values)) for kind in kinds]

    def _batch(self, matcher: NeedleMatcher, keys: list[bytes], fetched: Fetched) -> Iterator[Hit]:
        kinds, ttls, values = fetched
        parts = [_flatten(kind, value) for kind, value in zip(kinds, values, strict=True)]
        flat = [data for each in parts for data in each]
        owner = [index for index, each in enumerate(parts) for _ in each]
        encoded = self._encoded(matcher, keys, kinds, values, parts)
        # One search of the whole batch (one call: each releases the GIL, which the reading
        # thread then takes); only the keys with a needle are looked at again, for evidence.
        held = matcher.holding([*keys, *flat, *(layer for _, _, layer in encoded)])
        in_key, in_part = held[: len(keys)], held[len(keys) : len(keys) + len(flat)]
        held_parts = set(compress(range(len(flat)), in_part))
        inside: dict[int, list[tuple[str, bytes]]] = {}
        for part_index, path, layer in compress(encoded, held[len(keys) + len(flat) :]):
            inside.setdefault(part_index, []).append((path, layer))
        found = {*compress(range(len(keys)), in_key), *(owner[i] for i in (*held_parts, *inside))}
        firsts = list(accumulate((len(each) for each in parts), initial=0))
        for index in sorted(found):
            key, kind = keys[index], kinds[index]
            expiry = _expiry(ttls[index])
            name, in_name = self._name(matcher, key) if in_key[index] else (_show(key), [])
            yield from (Hit(self.store.name, name, f"key name{expiry}", n) for n in in_name)
            labels = _part_names(kind, values[index])
            for part_index, part in enumerate(labels, start=firsts[index]):
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
        parts: list[list[bytes]],
    ) -> list[tuple[int, str, bytes]]:
        """What the batch's parts hold encoded, as (part's index, path, bytes): the few
        pieces a decoder would sniff are picked out of the batch at once, and a piece
        seen twice (a stream's entries often repeat) is decoded once."""
        pieces = [
            (part_index, piece)
            for part_index, (kind, data) in enumerate(
                (kind, data) for kind, each in zip(kinds, parts, strict=True) for data in each
            )
            for piece in _pieces(kind, data)
        ]
        sniffed = might_be_encoded_each([piece for _, piece in pieces], self.decoders)
        encoded: list[tuple[int, str, bytes]] = []
        seen: dict[bytes, list[tuple[str, bytes]]] = {}
        for part_index, piece in compress(pieces, sniffed):
            if piece not in seen:
                try:
                    seen[piece] = list(expand(piece, self.decoders))
                except ContainerUnreadable as exc:
                    raise self._unreadable(matcher, keys, kinds, values, part_index, exc) from exc
            encoded.extend((part_index, path, layer) for path, layer in seen[piece])
        return encoded

    def _unreadable(
        self,
        matcher: NeedleMatcher,
        keys: list[bytes],
        kinds: list[str],
        values: list[Any],
        part_index: int,
        exc: ContainerUnreadable,
    ) -> StoreUnreadable:
        """The error for the batch's part ``part_index``, naming its key and part."""
        names = [
            (key, kind, part)
            for key, kind, value in zip(keys, kinds, values, strict=True)
            for part in _part_names(kind, value)
        ]
        key, kind, part = names[part_index]
        return StoreUnreadable(
            self.store.name, f"key {self._name(matcher, key)[0]!r} {kind} {part}: {exc}"
        )

    def _name(self, matcher: NeedleMatcher, key: bytes) -> tuple[str, list[Needle]]:
        """How evidence names ``key`` (masked if it holds a needle), and the needles in it."""
        in_name = [n for _, needles in matcher.search(key) for n in needles]
        return (mask(_show(key)) if in_name else _show(key)), in_name


# Every key of a batch read in one call: type, expiry and value together, where the
# pipeline costs three commands per key (most of a scan's time is redis-py packing and
# parsing them). Read-only commands, the same the pipeline sends.
FETCH_SCRIPT = """
local out, n = {}, 0
for _, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key)['ok']
  local value = false
  if kind == 'string' then value = redis.call('GET', key)
  elseif kind == 'hash' then value = redis.call('HGETALL', key)
  elseif kind == 'list' then value = redis.call('LRANGE', key, 0, -1)
  elseif kind == 'set' then value = redis.call('SMEMBERS', key)
  elseif kind == 'zset' then value = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  elseif kind == 'stream' then value = redis.call('XRANGE', key, '-', '+')
  elseif kind == 'ReJSON-RL' then value = redis.call('JSON.GET', key)
  end
  out[n + 1] = kind
  out[n + 2] = redis.call('PTTL', key)
  out[n + 3] = value
  n = n + 3
end
return out
"""


def _from_script(reply: list[Any]) -> Fetched:
    """The script's flat reply: values stay as Redis gives them (``_flatten``)."""
    kinds = [k.decode() if isinstance(k, bytes) else str(k) for k in reply[0::3]]
    return kinds, reply[1::3], reply[2::3]


def _as_replied(kind: str, value: Any) -> Any:
    """A value in the shape redis-py's pipeline gives it, in the script's: a hash or a
    stream entry as a flat field, value list, a sorted set as member, score."""
    if kind == "hash":
        return [item for pair in value.items() for item in pair]
    if kind == "set":
        return list(value)
    if kind == "zset":
        return [item for pair in value for item in pair]
    if kind == "stream":
        return [[entry_id, _as_replied("hash", fields)] for entry_id, fields in value]
    return value


FETCHERS: dict[str, Any] = {
    "string": lambda pipe, key: pipe.get(key),
    "hash": lambda pipe, key: pipe.hgetall(key),
    "list": lambda pipe, key: pipe.lrange(key, 0, -1),
    "set": lambda pipe, key: pipe.smembers(key),
    "zset": lambda pipe, key: pipe.zrange(key, 0, -1, withscores=True),
    "stream": lambda pipe, key: pipe.xrange(key),
    "ReJSON-RL": lambda pipe, key: pipe.execute_command("JSON.GET", key),
}


def _flatten(kind: str, value: Any) -> list[bytes]:
    """The parts of one key's value (as the script replies it) that are searched, in the
    order ``_part_names`` names them (only for the keys that hold a needle). A key gone
    since SCAN listed it has only its name."""
    if kind == "none":
        return []
    if kind == "hash":
        return [field + b"=" + item for field, item in _pairs(value)]
    if kind in ("list", "set"):
        return list(value)
    if kind == "zset":
        return [m + b" " + repr(float(s)).encode() for m, s in _pairs(value)]
    if kind == "stream":
        return [b" ".join(k + b"=" + v for k, v in _pairs(fields)) for _, fields in value]
    if value is None:
        return []
    return [value if isinstance(value, bytes) else str(value).encode()]


def _pairs(flat: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """``[a, 1, b, 2]`` as ``(a, 1), (b, 2)``: a hash's, a stream entry's fields."""
    return zip(flat[0::2], flat[1::2], strict=True)


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


def _pieces(kind: str, data: bytes) -> list[bytes]:
    """What of a part may be encoded: a hash field's, a stream entry's values each on
    their own (``_flatten`` joins them as ``name=value``), a sorted set's member."""
    if kind == "hash":
        return [data.partition(b"=")[2]]
    if kind == "stream":
        return [pair.partition(b"=")[2] for pair in data.split(b" ")]
    if kind == "zset":
        return [data.rpartition(b" ")[0]]
    return [data]


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
