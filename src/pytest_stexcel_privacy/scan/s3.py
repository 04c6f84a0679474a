"""S3 buckets: every version of every object (a delete marker is not deletion).

Object keys, bodies (gzip included), user metadata and tags are searched.
Works against AWS and S3-compatible servers (moto's server mode in the tests).
Only reads: ``list_object_versions``, ``get_object``, ``head_object``,
``get_object_tagging``.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Hashable, Iterator
from typing import Any

from ..contract.stores import S3Store
from ..errors import StoreUnreadable
from ..observe.served_changes import ServedChanges, served_changes
from .matcher import NeedleMatcher
from .residue import Hit

GZIP_MAGIC = b"\x1f\x8b"
MAX_OBJECT_BYTES = 512 * 1024 * 1024
MAX_KEPT_BYTES = 64 * 1024 * 1024  # versions kept between scans, to read each once
MAX_KEPT_VERSIONS = 100_000  # a listing kept between scans, to list an unchanged bucket once


# (endpoint, region, credentials in the environment) -> a client of the suite's own server
_SERVED_CLIENTS: dict[tuple[Any, ...], Any] = {}
_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
)


def s3_client(store: S3Store) -> Any:
    """A client of the store's endpoint. One on the suite's own S3 server is shared by
    every scan in the process while the credentials in the environment stay the same: a
    client takes longer to build than an empty bucket takes to scan."""
    if served_changes(store.endpoint_url) is None:
        return _new_client(store)
    for stopped in [key for key in _SERVED_CLIENTS if served_changes(key[0]) is None]:
        del _SERVED_CLIENTS[stopped]  # its server is gone: its client would only use memory
    key = (
        store.endpoint_url,
        store.region,
        *(os.environ.get(name) for name in _CREDENTIAL_VARIABLES),
    )
    client = _SERVED_CLIENTS.get(key)
    if client is None:
        client = _SERVED_CLIENTS[key] = _new_client(store)
    return client


def _new_client(store: S3Store) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:
        raise StoreUnreadable(
            store.name, "S3 stores need boto3: pip install 'pytest-stexcel-privacy[s3]'"
        ) from exc
    return boto3.client(
        "s3",
        endpoint_url=store.endpoint_url,
        region_name=store.region or "us-east-1",
        config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30),
    )


class S3Scanner:
    def __init__(self, store: S3Store, reuse: bool = True) -> None:
        self.store = store
        # False (--privacy-rescan): nothing the served-changes witnesses prove unchanged
        # is kept; every listing, body and tag set is read at every scan.
        self.reuse = reuse
        self.client: Any = None
        self._contents: dict[tuple[str, str], tuple[bytes, str]] = {}  # (key, version id)
        self._kept_bytes = 0
        # (key, version id) -> its tags, with what proved the object unchanged when read
        self._tag_texts: dict[tuple[str, str], tuple[Hashable, str]] = {}
        # key -> an unversioned object's body and metadata, with what proved it unchanged
        self._unversioned_contents: dict[str, tuple[Hashable, bytes, str]] = {}
        # the versions listed, with what proved the bucket unchanged when they were listed
        self._listing: tuple[Hashable, list[dict[str, Any]]] | None = None

    def open(self) -> None:
        if self.client is not None:
            return
        client = s3_client(self.store)
        try:
            client.head_bucket(Bucket=self.store.bucket)
        except Exception as exc:  # botocore raises many kinds; all mean "cannot read"
            raise StoreUnreadable(self.store.name, f"bucket {self.store.bucket!r}: {exc}") from exc
        self.client = client

    def close(self) -> None:
        self.client = None

    def witness(self) -> Hashable | None:
        """What proves the bucket unchanged since a scan: on the suite's own S3 server, the
        count of requests that may change a bucket; elsewhere nothing does."""
        changes = self._changes()
        return None if changes is None else changes.witness()

    def _object_witness(self, key: str) -> Hashable | None:
        """What proves one object unchanged since it was read, if anything does."""
        changes = self._changes()
        return None if changes is None else changes.object_witness(self.store.bucket, key)

    def _changes(self) -> ServedChanges | None:
        return served_changes(self.store.endpoint_url) if self.reuse else None

    def scan(self, matcher: NeedleMatcher, scanned: list[str]) -> Iterator[Hit]:
        self.open()
        name = self.store.name
        try:
            for version in self._versions():
                key, version_id = version["Key"], version.get("VersionId") or "null"
                locator = f"version {version_id}"
                for _, needles in matcher.search(key.encode("utf-8", "surrogateescape")):
                    yield from (Hit(name, key, f"{locator} key", n) for n in needles)
                if version.get("IsDeleteMarker"):
                    continue
                yield from self._object(matcher, key, version_id, locator)
                scanned.append(f"{name}: {key} ({locator})")
        except StoreUnreadable:
            raise
        except Exception as exc:
            raise StoreUnreadable(name, f"bucket {self.store.bucket!r}: {exc}") from exc

    def _versions(self) -> Iterator[dict[str, Any]]:
        """Every version and delete marker. Listed again unless the suite's own server
        proves the bucket unchanged since the last complete listing (the witness is taken
        before listing, so a change made while listing shows next time)."""
        witness = self.witness()
        if witness is not None and self._listing is not None and self._listing[0] == witness:
            yield from self._listing[1]
            return
        listed: list[dict[str, Any]] | None = [] if witness is not None else None
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.store.bucket, Prefix=self.store.prefix):
            versions = [
                *page.get("Versions", []),
                *({**marker, "IsDeleteMarker": True} for marker in page.get("DeleteMarkers", [])),
            ]
            if listed is not None:
                listed.extend(versions)
                if len(listed) > MAX_KEPT_VERSIONS:
                    listed = None
            yield from versions
        if witness is not None and listed is not None:
            self._listing = (witness, listed)

    def _object(
        self, matcher: NeedleMatcher, key: str, version_id: str, locator: str
    ) -> Iterator[Hit]:
        name = self.store.name
        # Always by its id, "null" included: without one, S3 answers the latest version,
        # and a versioned bucket's "null" version (written before versioning) is another.
        ask = {"Bucket": self.store.bucket, "Key": key, "VersionId": version_id}
        body, metadata = self._contents.get((key, version_id)) or self._unversioned(
            ask, key, version_id, locator
        )
        for _, needles in matcher.search(body):
            yield from (Hit(name, key, f"{locator} body", n) for n in needles)
        for _, needles in matcher.search(metadata.encode("utf-8", "surrogateescape")):
            yield from (Hit(name, key, f"{locator} metadata", n) for n in needles)
        text = self._tags(ask, key, version_id)
        for _, needles in matcher.search(text.encode("utf-8", "surrogateescape")):
            yield from (Hit(name, key, f"{locator} tags", n) for n in needles)

    def _unversioned(
        self, ask: dict[str, str], key: str, version_id: str, locator: str
    ) -> tuple[bytes, str]:
        """The "null" version (an unversioned bucket's object, or one written before the
        bucket was versioned) can be overwritten under the same key: its body is kept only
        while the suite's own server proves nothing touched the object since it was read."""
        if version_id != "null":
            return self._read(ask, locator)
        witness = self._object_witness(key)
        held = self._unversioned_contents.get(key)
        if witness is not None and held is not None and held[0] == witness:
            return held[1], held[2]
        body, metadata = self._read(ask, locator)
        if held is not None:
            del self._unversioned_contents[key]
            self._kept_bytes -= len(held[1])
        if witness is not None and self._kept_bytes + len(body) <= MAX_KEPT_BYTES:
            self._unversioned_contents[key] = (witness, body, metadata)
            self._kept_bytes += len(body)
        return body, metadata

    def _tags(self, ask: dict[str, str], key: str, version_id: str) -> str:
        """A version's tags, which can change: read again unless the suite's own server
        proves nothing touched the object since they were read."""
        witness = self._object_witness(key)
        kept = self._tag_texts.get((key, version_id))
        if witness is not None and kept is not None and kept[0] == witness:
            return kept[1]
        tags = self.client.get_object_tagging(**ask).get("TagSet", [])
        text = " ".join(f"{t['Key']}={t['Value']}" for t in tags)
        if witness is not None:
            self._tag_texts[(key, version_id)] = (witness, text)
        return text

    def _read(self, ask: dict[str, str], locator: str) -> tuple[bytes, str]:
        """An object's body (gunzipped) and user metadata; kept for the next scan when its
        version has an id other than "null", as such a version's body and metadata never
        change (its tags can: ``_tags`` keeps them only while proven untouched)."""
        key, name = ask["Key"], self.store.name
        response = self.client.get_object(**ask)
        if response.get("ContentLength", 0) > MAX_OBJECT_BYTES:
            raise StoreUnreadable(name, f"{key} ({locator}) is larger than the scan limit")
        body: bytes = response["Body"].read()
        if body[:2] == GZIP_MAGIC:
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error) as exc:
                raise StoreUnreadable(name, f"{key} ({locator}): corrupt gzip: {exc}") from exc
        metadata = " ".join(f"{k}={v}" for k, v in response.get("Metadata", {}).items())
        version_id = ask.get("VersionId")
        if (
            version_id
            and version_id != "null"  # overwritable: kept by _unversioned, with its witness
            and self._kept_bytes + len(body) <= MAX_KEPT_BYTES
        ):
            self._contents[(key, version_id)] = (body, metadata)
            self._kept_bytes += len(body)
        return body, metadata
