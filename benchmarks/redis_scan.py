"""Redis residue scan speed against listing the keys with redis-cli, measured in the same run.

    python benchmarks/redis_scan.py [--url redis://127.0.0.1:6379/14] [--keys 1000000]
        [--repeat 3] [--force] [--compare-handoffs]

Empties the database at --url (refusing if it holds keys, unless --force), fills
it with --keys keys of every type (strings, hashes, lists, sets, sorted sets,
streams; a third with a TTL) and plants needles of a few persons in some
values and key names. Times the residue scanner and the floor
``redis-cli -u URL --scan | wc -l`` --repeat times each, alternating, prints the
keys/s of each run and the ratio of the medians, and empties the database again.
Exits non-zero if any scan misses a plant.

``--compare-handoffs`` adds to each round a scan without the quicker GIL hand-offs
(``scan/handoffs.py``: the interpreter's own switch interval throughout), and prints
its median and ratio beside the others.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import subprocess
import sys
import time
from unittest.mock import patch

import redis

from pytest_stexcel_privacy import RedisStore
from pytest_stexcel_privacy.findings.masking import mask
from pytest_stexcel_privacy.people.persons import Person, assemble
from pytest_stexcel_privacy.scan import ResidueScanner
from pytest_stexcel_privacy.scan import redis as redis_scanner

KINDS = ["string"] * 10 + ["hash"] * 4 + ["list"] * 2 + ["set", "zset", "stream"]
PIPELINE = 5_000


def fill(client: redis.Redis, keys: int) -> None:
    """``keys`` keys of ERP cache data of mixed types, a third of them expiring."""
    rng = random.Random(14)
    pipe = client.pipeline(transaction=False)
    for i in range(keys):
        kind, word = rng.choice(KINDS), f"{rng.getrandbits(48):012x}"
        ttl = rng.randint(60, 7 * 86400) if i % 3 == 0 else None
        if kind == "string":
            pipe.set(f"session:{i}", f'{{"user":{i},"cart":"{word}","n":{i % 97}}}', ex=ttl)
        else:
            key = f"{kind}:{i}"
            if kind == "hash":
                pipe.hset(key, mapping={"name": f"Customer {word}", "tier": "gold", "n": i})
            elif kind == "list":
                pipe.rpush(key, *(f"order SO-{i}-{n} {word}" for n in range(4)))
            elif kind == "set":
                pipe.sadd(key, *(f"tag-{word[n:]}" for n in range(3)))
            elif kind == "zset":
                pipe.zadd(key, {f"sku-{word[n:]}": n * 1.5 for n in range(3)})
            else:
                for n in range(2):
                    pipe.xadd(key, {"event": "viewed", "sku": f"RNG-{word}", "n": n})
            if ttl:
                pipe.expire(key, ttl)
        if i % PIPELINE == PIPELINE - 1:
            pipe.execute()
    pipe.execute()


def plant(client: redis.Redis, people: list[Person]) -> list[tuple[str, str, str, str]]:
    """Needles of a few persons in values and key names: (key, locator start, person, field)."""
    a, b, c = people[0], people[len(people) // 2], people[-1]
    client.set("session:planted", f'{{"email":"{a.email}"}}', ex=3600)
    client.hset("hash:planted", mapping={"name": "x", "phone": b.phone})
    client.rpush("list:planted", "x", c.card.number)
    client.sadd("set:planted", a.street)
    client.zadd("zset:planted", {b.job_title: 2.5})
    client.xadd("stream:planted", {"who": c.last_name})
    client.set(f"by-email:{b.email}", "1", ex=3 * 86400)
    client.sadd(f"by-name:{c.first_name}", "1")
    return [
        ("session:planted", "string value", a.canary, "email"),
        ("hash:planted", "hash field phone", b.canary, "phone"),
        ("list:planted", "list item 1", c.canary, "card_number"),
        ("set:planted", "set member", a.canary, "street"),
        ("zset:planted", "zset member", b.canary, "job_title"),
        ("stream:planted", "stream entry", c.canary, "last_name"),
        (f"by-email:{b.email}", "key name, expires in", b.canary, "email"),
        (f"by-name:{c.first_name}", "key name", c.canary, "first_name"),
    ]


def timed_scan(
    url: str,
    people: list[Person],
    plants: list[tuple[str, str, str, str]],
    missed: set[tuple[str, str, str, str]],
) -> float:
    """One residue scan's seconds; the plants it missed are added to ``missed``."""
    with ResidueScanner([RedisStore(url, name="bench")]) as scanner:
        start = time.perf_counter()
        residue = scanner.scan(people)
        took = time.perf_counter() - start
    missed |= {
        (key, locator, person, field)
        for key, locator, person, field in plants
        if not any(
            hit.location in (key, mask(key))
            and hit.locator.startswith(locator)
            and (hit.person, hit.field) == (person, field)
            for hit in residue
        )
    }
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, alternating")
    parser.add_argument("--force", action="store_true", help="empty the database even if in use")
    parser.add_argument(
        "--compare-handoffs",
        action="store_true",
        help="also scan without the quicker GIL hand-offs, alternating",
    )
    args = parser.parse_args()
    client = redis.Redis.from_url(args.url)
    if client.dbsize() and not args.force:
        print(f"{args.url} holds {client.dbsize()} keys; pass --force to empty it", file=sys.stderr)
        return 2
    client.flushdb()
    try:
        people = [assemble(given=f"Gi{i}", family=f"Fa{i}") for i in range(args.people)]
        start = time.perf_counter()
        fill(client, args.keys)
        plants = plant(client, people)
        total = client.dbsize()
        needles = sum(len(p.needles) for p in people)
        print(
            f"filled {total} keys in {time.perf_counter() - start:.1f} s, "
            f"{client.info('memory')['used_memory_human']} used; "
            f"{len(people)} persons, {needles} needles, {len(plants)} plants"
        )
        floors: list[float] = []
        scans: list[float] = []
        without: list[float] = []
        missed: set[tuple[str, str, str, str]] = set()
        for _ in range(args.repeat):
            if args.compare_handoffs:
                with patch.object(redis_scanner, "quick_handoffs", contextlib.nullcontext):
                    without.append(timed_scan(args.url, people, plants, missed))
            start = time.perf_counter()
            listed = subprocess.run(
                f"redis-cli -u '{args.url}' --scan | wc -l",
                shell=True,
                capture_output=True,
                text=True,
                check=True,
            )
            floors.append(time.perf_counter() - start)
            scans.append(timed_scan(args.url, people, plants, missed))
            print(
                f"redis-cli --scan | wc -l: {floors[-1]:.2f} s = "
                f"{int(listed.stdout) / floors[-1]:,.0f} keys/s; "
                f"scanner: {scans[-1]:.2f} s = {total / scans[-1]:,.0f} keys/s"
            )
        floor, took = statistics.median(floors), statistics.median(scans)
        print(f"medians: floor {floor:.2f} s, scanner {took:.2f} s")
        print(f"scanner / floor keys/s: {floor / took:.3f}")
        if without:
            alone = statistics.median(without)
            print(
                f"without the quick hand-offs: {', '.join(f'{t:.2f}' for t in without)} s, "
                f"median {alone:.2f} s; scanner / floor keys/s {floor / alone:.3f}"
            )
        for place in sorted(missed):
            print(f"FAIL: the scanner missed the plant {place}", file=sys.stderr)
        return 1 if missed else 0
    finally:
        client.flushdb()
        client.close()


if __name__ == "__main__":
    sys.exit(main())
