"""S3 residue scans on the suite's own S3 server: a client shared by the checks, an
unchanged bucket listed once and an untouched unversioned object read once, against a
client per check and every listing and body read at every scan, measured in the same run.

    python benchmarks/s3_scan.py [--objects 20] [--checks 15] [--scans 20] [--repeat 3]

A check opens its own scanner and scans after every step, each time for other
people, while the bucket mostly stays as it was. Fills a bucket with
``--objects`` small objects (one naming a planted person), then runs
``--checks`` checks of ``--scans`` scans each, every scan for a new person,
both ways; prints the best of ``--repeat`` for each and their ratio. Exits
non-zero if the two ways do not find the same hits.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

from pytest_stexcel_privacy import S3Store
from pytest_stexcel_privacy.observe.s3_server import running_s3_server
from pytest_stexcel_privacy.people.persons import assemble
from pytest_stexcel_privacy.scan import ResidueScanner, s3
from pytest_stexcel_privacy.scan.s3 import S3Scanner


def read_every_time(
    scanner: S3Scanner, ask: dict[str, str], key: str, version_id: str, locator: str
) -> tuple[bytes, str]:
    """As before: an unversioned object's body read at every scan."""
    return scanner._read(ask, locator)


def run_checks(store: S3Store, checks: int, scans: int) -> tuple[float, list[str]]:
    found: list[str] = []
    started = time.perf_counter()
    for check in range(checks):
        with ResidueScanner([store]) as scanner:
            for number in range(scans):
                person = assemble(given=f"Scan{check}x{number}", family="Bench")
                found.extend(hit.describe() for hit in scanner.scan([person]))
    return time.perf_counter() - started, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20)
    parser.add_argument("--checks", type=int, default=15)
    parser.add_argument("--scans", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with running_s3_server() as endpoint:
        client = s3.s3_client(S3Store("any", endpoint_url=endpoint, region="us-east-1"))
        bucket = f"bench-{uuid.uuid4().hex[:10]}"
        client.create_bucket(Bucket=bucket)
        planted = assemble(given="Ann", family="Lee")
        for number in range(args.objects):
            body = f"brief {number} for {planted.email}" if number == 0 else f"brief {number}"
            client.put_object(Bucket=bucket, Key=f"designs/{number}.txt", Body=body.encode())
        store = S3Store(bucket, endpoint_url=endpoint, name="bench", region="us-east-1")
        with ResidueScanner([store]) as scanner:
            if not scanner.scan([planted]).hits:
                print("the planted person was not found", file=sys.stderr)
                return 1
        kept_versions = s3.MAX_KEPT_VERSIONS
        now, before = float("inf"), float("inf")
        hits_now: list[str] = []
        hits_before: list[str] = []
        for _ in range(args.repeat):
            seconds, hits_now = run_checks(store, args.checks, args.scans)
            now = min(now, seconds)
            s3.MAX_KEPT_VERSIONS = -1  # as before: every scan lists the bucket
            real_client, real_unversioned = s3.s3_client, S3Scanner._unversioned
            s3.s3_client = s3._new_client  # type: ignore[assignment]  # each check a client
            S3Scanner._unversioned = read_every_time  # type: ignore[method-assign]
            try:
                seconds, hits_before = run_checks(store, args.checks, args.scans)
            finally:
                s3.MAX_KEPT_VERSIONS = kept_versions
                s3.s3_client = real_client  # type: ignore[assignment]
                S3Scanner._unversioned = real_unversioned  # type: ignore[method-assign]
            before = min(before, seconds)
        if sorted(hits_now) != sorted(hits_before):
            print("the two ways found different hits", file=sys.stderr)
            return 1
        scans = args.checks * args.scans
        print(f"{args.objects} objects, {args.checks} checks of {args.scans} scans each")
        print(
            f"shared client, listing and bodies kept: {now:.2f} s "
            f"({1000 * now / scans:.1f} ms a scan)"
        )
        print(
            f"client per check, all read per scan: {before:.2f} s ({1000 * before / scans:.1f} ms)"
        )
        print(f"ratio: {before / now:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
