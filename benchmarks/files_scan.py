"""File residue scan throughput against ripgrep on the same files, measured in the same run.

    python benchmarks/files_scan.py [--megabytes 1024] [--people 100] [--dir DIR]

Writes about ``--megabytes`` of ERP logs (plain ``.log`` lines and JSON-lines
``.jsonl``, built from a few MB of random lines written again and again in
varying slices) under DIR/plain, plus one gzip archive under DIR/archive,
and plants needles of a few of the persons in a few places. After one warm-up
read of every file, times the residue scanner and
``rg -F -i -c -a -f needles.txt`` on DIR/plain and prints the MB/s of each and
their ratio (issue 18's target: at least 1.0 against both ``rg -F -i`` and
case-sensitive ``rg -F``). Exits non-zero if the scanner misses a plant, or
ripgrep misses a planted file.
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pytest_stexcel_privacy import FileStore, Person
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import ResidueScanner

RG_INSTALL = (
    "ripgrep (rg) is not on PATH; install it (Debian/Ubuntu: apt-get install ripgrep, macOS: "
    "brew install ripgrep, or cargo install ripgrep) to compare the scanner against it"
)
MB = 1 << 20
FILE_MB = 64
GIVEN = ["Maria", "James", "Zoë", "Wei", "Olga", "Kwame", "Ana", "Liam", "Priya", "Jonas"]
FAMILY = ["Gonzalez", "Smith", "Müller", "Chen", "Ivanova", "Mensah", "Silva", "Okafor", "Rao"]
MODULES = ["sales.order", "billing.invoice", "crm.customer", "stock.move", "auth.session"]
EVENTS = ["created", "updated", "confirmed", "shipped", "paid", "cancelled", "viewed"]
DOMAINS = ["example.com", "mail.example.org", "customer-mail.de", "shop.example.net"]
# (field, form) of the needles planted, one per planted person, in turn.
PLANTS = [
    ("email", "exact"),
    ("phone", "grouped"),
    ("email", "sha256"),
    ("street", "url"),
    ("card_number", "digits"),
    ("first_name", "base64"),
]


def pool(rng: random.Random, megabytes: int, jsonl: bool) -> tuple[bytes, list[int]]:
    """About ``megabytes`` of random log lines, and the offset at which each line starts."""
    lines: list[bytes] = []
    size = 0
    while size < megabytes * MB:
        stamp = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}"
        stamp += f":{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"
        who = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
        mail = f"{who.split()[0].lower()}.{rng.randint(1, 999)}@{rng.choice(DOMAINS)}"
        module, event, amount = rng.choice(MODULES), rng.choice(EVENTS), rng.randint(1, 10**6)
        ref, trace = f"SO-{rng.randint(0, 10**7):07d}", f"{rng.getrandbits(128):032x}"
        if jsonl:
            row = (
                f'{{"ts":"{stamp}","level":"info","module":"{module}","event":"{event}",'
                f'"ref":"{ref}","customer":{{"id":"C-{rng.randint(0, 99999):05d}","name":"{who}",'
                f'"email":"{mail}"}},"amount":{amount / 100:.2f},"currency":"EUR",'
                f'"trace":"{trace}"}}'
            )
        else:
            level = rng.choice(["INFO ", "INFO ", "INFO ", "DEBUG", "WARN ", "ERROR"])
            row = (
                f"{stamp} {level} [erp.{module}] worker-{rng.randint(1, 8)} {ref} {event} "
                f"customer={mail} total={amount / 100:.2f} EUR ip=10.{rng.randint(0, 255)}."
                f"{rng.randint(0, 255)}.{rng.randint(1, 254)} trace={trace}"
            )
        lines.append(row.encode() + b"\n")
        size += len(lines[-1])
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    return b"".join(lines), offsets


def write_file(
    path: Path,
    megabytes: int,
    data: tuple[bytes, list[int]],
    plants: list[bytes],
    rng: random.Random,
) -> list[int]:
    """Random line slices of ``data`` up to ``megabytes``, with ``plants`` between slices.

    Returns the line number of each plant.
    """
    text, offsets = data
    view, count = memoryview(text), len(offsets) - 1
    blocks = max(1, megabytes * MB * 2 // len(text))  # slices average half the pool
    after = sorted(rng.randrange(blocks) for _ in plants)
    lines: list[int] = []
    line = size = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        block = 0
        while size < megabytes * MB or block <= max(after, default=-1):
            start = rng.randrange(count // 2)
            stop = start + rng.randrange(count // 4, count // 2)
            size += out.write(view[offsets[start] : offsets[stop]])
            line += stop - start
            while after and after[0] == block:
                after.pop(0)
                size += out.write(plants[len(lines)])
                line += 1
                lines.append(line)
            block += 1
    return lines


def plant_line(needle: str, jsonl: bool) -> bytes:
    if jsonl:
        return f'{{"level":"warn","module":"crm.customer","note":"{needle}"}}\n'.encode()
    return f"2024-06-01T10:00:00.000Z WARN  [erp.crm.customer] lookup {needle} failed\n".encode()


def build(root: Path, megabytes: int, people: Sequence[Person]) -> set[tuple[str, str, str, str]]:
    """Write the tree; return each plant as (path, locator, person, field)."""
    rng = random.Random(3)
    pools = {False: pool(rng, 4, False), True: pool(rng, 4, True)}
    chosen = []
    for index, (field, form) in enumerate(PLANTS[: len(people)]):
        person = people[index * len(people) // len(PLANTS)]
        needle = next(n for n in person.needles if (n.field, n.form) == (field, form))
        chosen.append(needle)
    files = max(1, megabytes // FILE_MB)
    names = [
        f"{'audit' if i % 2 else 'app'}/erp-{i // 2:02d}.{'jsonl' if i % 2 else 'log'}"
        for i in range(files)
    ]
    where: dict[str, list[int]] = {}
    for index in range(len(chosen)):
        where.setdefault(rng.choice(names), []).append(index)
    expected = set()
    for i, name in enumerate(names):
        jsonl, planted = name.endswith(".jsonl"), where.get(name, [])
        size = megabytes // files + (megabytes % files if i == 0 else 0)
        lines = [plant_line(chosen[k].text, jsonl) for k in planted]
        numbers = write_file(root / "plain" / name, size, pools[jsonl], lines, rng)
        for k, line in zip(planted, numbers, strict=True):
            expected.add((name, f"line {line}", chosen[k].person, chosen[k].field))
    # One gzip archive: not searched by ripgrep, but the scanner must see into it.
    needle = people[-1].needles[0]
    body = pools[False][0][: 2 * MB] + plant_line(needle.text, False)
    (root / "archive").mkdir()
    (root / "archive" / "erp-old.log.gz").write_bytes(gzip.compress(body, compresslevel=1))
    line = body.count(b"\n")
    expected.add(("erp-old.log.gz", f"gzip line {line}", needle.person, needle.field))
    return expected


def ripgrep(
    rg: str, options: list[str], needles: Path, plain: Path
) -> tuple[float, dict[str, int]]:
    """Seconds ``rg -F -c`` takes over ``plain``, and its count of matching lines per file."""
    command = [rg, "-F", "-c", "-a", "--no-ignore", "--hidden", "--no-config", "--with-filename"]
    command += [*options, "-f", str(needles), str(plain)]
    start = time.perf_counter()
    found = subprocess.run(command, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if found.returncode > 1:  # 1: nothing found
        raise SystemExit(f"{' '.join(command)} failed: {found.stderr}")
    counts: dict[str, int] = {}
    for row in found.stdout.splitlines():
        path, _, count = row.rpartition(":")
        counts[Path(path).relative_to(plain).as_posix()] = int(count)
    return took, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--dir", type=Path, help="where to write the files (kept afterwards)")
    args = parser.parse_args()
    rg = shutil.which("rg")
    if rg is None:
        print(RG_INSTALL, file=sys.stderr)
        return 2
    root = args.dir or Path(tempfile.mkdtemp(prefix="stexcel-files-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        print(f"{root} is not empty", file=sys.stderr)
        return 2
    try:
        people = [
            assemble(given=GIVEN[i % len(GIVEN)], family=FAMILY[i // len(GIVEN) % len(FAMILY)])
            for i in range(args.people)
        ]
        needles = [n for p in people for n in p.needles]
        (root / "needles.txt").write_text("".join(n.text + "\n" for n in needles))
        start = time.perf_counter()
        expected = build(root, args.megabytes, people)
        plain = root / "plain"
        files = [p for p in plain.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        print(
            f"wrote {size / MB:.0f} MB in {len(files)} files in {time.perf_counter() - start:.1f} s"
            f"; {len(people)} persons, {len(needles)} needles, {len(expected)} plants"
        )
        for path in files:  # warm-up: both timings below read from the page cache
            with path.open("rb") as f:
                while f.read(16 * MB):
                    pass
        rg_took, counts = ripgrep(rg, ["-i"], root / "needles.txt", plain)
        exact_took, _ = ripgrep(rg, [], root / "needles.txt", plain)
        with ResidueScanner([FileStore(plain, name="plain")]) as scanner:
            start = time.perf_counter()
            residue = scanner.scan(people)
            took = time.perf_counter() - start
        with ResidueScanner([FileStore(root / "archive", name="archive")]) as scanner:
            archived = scanner.scan(people)
        places = {(h.location, h.locator, h.person, h.field) for h in [*residue, *archived]}
        rate, rg_rate = size / MB / took, size / MB / rg_took
        print(f"ripgrep: {rg_took:.2f} s = {rg_rate:.0f} MB/s, {sum(counts.values())} lines hit")
        print(f"scanner: {took:.2f} s = {rate:.0f} MB/s, {len(residue)} hits")
        print(f"scanner / ripgrep throughput: {rate / rg_rate:.2f} (target >= 1.0)")
        exact_rate = size / MB / exact_took
        print(
            f"ripgrep without -i (case-sensitive, so less work): "
            f"{exact_rate:.0f} MB/s; scanner / that: {rate / exact_rate:.2f} (target >= 1.0)"
        )
        missed = expected - places
        unplanted = {p[0] for p in expected} - {"erp-old.log.gz"} - set(counts)
        for place in sorted(missed):
            print(f"FAIL: the scanner missed the plant at {place}", file=sys.stderr)
        for name in sorted(unplanted):
            print(f"FAIL: ripgrep found nothing in planted {name}", file=sys.stderr)
        return 1 if missed or unplanted else 0
    finally:
        if args.dir is None:
            shutil.rmtree(root)


if __name__ == "__main__":
    sys.exit(main())
