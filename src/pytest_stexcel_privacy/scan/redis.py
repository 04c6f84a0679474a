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

from collections.abc import Iterator
from typing import Any

from ..contract.decoding import ValueDecoder
from ..contract.stores import RedisStore
from ..errors import StoreUnreadable
from ..findings.masking import mask
from ..people.needles import Needle
from .decoders import ContainerUnreadable, decoded_matches, might_be_encoded, store_decoders
from .matcher import NeedleMatcher
from .residue import Hit

BATCH = 500


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
            batch: list[bytes] = []
            for key in self.client.scan_iter(count=BATCH):
                batch.append(key)
                if len(batch) >= BATCH:
                    yield from self._batch(matcher, batch)
                    scanned.extend(f"{self.store.name}: {_show(k)}" for k in batch)
                    batch = []
            yield from self._batch(matcher, batch)
            scanned.extend(f"{self.store.name}: {_show(k)}" for k in batch)
        except redis.RedisError as exc:
            raise StoreUnreadable(self.store.name, f"scan stopped: {exc}") from exc

    def _fetch(self, keys: list[bytes]) -> tuple[list[str], list[Any], list[Any]]:
        """Each key's type, expiry (ms) and value, as the pipeline's replies shape them."""
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

    def _fetch_by_pipeline(self, keys: list[bytes]) -> tuple[list[str], list[Any], list[Any]]:
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
        return kinds, ttls, [next(values) for _ in kinds]

    def _batch(self, matcher: NeedleMatcher, keys: list[bytes]) -> Iterator[Hit]:
        if not keys:
            return
        kinds, ttls, values = self._fetch(keys)
        parts = [  # a key gone since SCAN listed it has only its name
            list(_flatten(kind, value)) if kind != "none" else []
            for kind, value in zip(kinds, values, strict=True)
        ]
        # one search of the whole batch; only what holds a needle is searched again
        held = iter(matcher.holding([*keys, *(data for each in parts for _, data in each)]))
        named = [next(held) for _ in keys]
        for key, kind, ttl, each, in_key in zip(keys, kinds, ttls, parts, named, strict=True):
            expiry = _expiry(ttl)
            in_name = [n for _, needles in matcher.search(key) for n in needles] if in_key else []
            name = mask(_show(key)) if in_name else _show(key)
            yield from (Hit(self.store.name, name, f"key name{expiry}", n) for n in in_name)
            for part, data in each:
                found = matcher.search(data) if next(held) else ()
                for _, needles in found:
                    yield from (
                        Hit(self.store.name, name, f"{kind} {part}{expiry}".strip(), n)
                        for n in needles
                    )
                try:
                    for path, needle in _decoded(matcher, kind, data, self.decoders):
                        inside = f"{kind} {part}, in {path}{expiry}"
                        yield Hit(self.store.name, name, inside, needle)
                except ContainerUnreadable as exc:
                    raise StoreUnreadable(
                        self.store.name, f"key {name!r} {kind} {part}: {exc}"
                    ) from exc


# Every key of a batch read in one call: type, expiry and value together, where the
# pipeline costs three commands per key (most of a scan's time is redis-py packing and
# parsing them). Read-only commands, the same the pipeline sends.
FETCH_SCRIPT = """
local out = {}
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
  out[#out + 1] = kind
  out[#out + 1] = redis.call('PTTL', key)
  out[#out + 1] = value
end
return out
"""


def _from_script(reply: list[Any]) -> tuple[list[str], list[Any], list[Any]]:
    """The script's flat reply in the shapes redis-py gives the pipeline's replies."""
    kinds = [k.decode() if isinstance(k, bytes) else str(k) for k in reply[0::3]]
    values = []
    for kind, value in zip(kinds, reply[2::3], strict=True):
        if kind == "hash":
            value = dict(zip(value[0::2], value[1::2], strict=True))
        elif kind == "set":
            value = set(value)
        elif kind == "zset":
            value = [(m, float(s)) for m, s in zip(value[0::2], value[1::2], strict=True)]
        elif kind == "stream":
            value = [(i, dict(zip(f[0::2], f[1::2], strict=True))) for i, f in value]
        elif kind == "none":
            value = 0  # what EXISTS answers for a key gone since SCAN listed it
        values.append(value)
    return kinds, reply[1::3], values


FETCHERS: dict[str, Any] = {
    "string": lambda pipe, key: pipe.get(key),
    "hash": lambda pipe, key: pipe.hgetall(key),
    "list": lambda pipe, key: pipe.lrange(key, 0, -1),
    "set": lambda pipe, key: pipe.smembers(key),
    "zset": lambda pipe, key: pipe.zrange(key, 0, -1, withscores=True),
    "stream": lambda pipe, key: pipe.xrange(key),
    "ReJSON-RL": lambda pipe, key: pipe.execute_command("JSON.GET", key),
}


def _flatten(kind: str, value: Any) -> Iterator[tuple[str, bytes]]:
    """(which part, bytes) pairs of one key's value."""
    if kind == "hash":
        for field, item in value.items():
            yield f"field {_show(field)}", field + b"=" + item
    elif kind in ("list", "set"):
        for index, item in enumerate(value):
            yield (f"item {index}" if kind == "list" else "member"), item
    elif kind == "zset":
        for member, score in value:
            yield "member", member + b" " + repr(score).encode()
    elif kind == "stream":
        for entry_id, fields in value:
            text = b" ".join(k + b"=" + v for k, v in fields.items())
            yield f"entry {_show(entry_id)}", text
    elif value is not None:
        yield "value", value if isinstance(value, bytes) else str(value).encode()


def _decoded(
    matcher: NeedleMatcher, kind: str, data: bytes, decoders: tuple[ValueDecoder, ...]
) -> Iterator[tuple[str, Needle]]:
    """What is inside an encoded part: a hash field's, a stream entry's values are each
    decoded on their own (``_flatten`` joins them as ``name=value``)."""
    if kind == "hash":
        pieces = [data.partition(b"=")[2]]
    elif kind == "stream":
        pieces = [pair.partition(b"=")[2] for pair in data.split(b" ")]
    elif kind == "zset":
        pieces = [data.rpartition(b" ")[0]]
    else:
        pieces = [data]
    for piece in pieces:
        if might_be_encoded(piece, decoders):
            yield from decoded_matches(matcher, piece, decoders)


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
