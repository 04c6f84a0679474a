"""Declarations of where an ERP module keeps data.

These are plain descriptions: opening and reading a store is the scanners'
job (``pytest_stexcel_privacy.scan``), so declaring one imports nothing heavy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .decoding import ValueDecoder


@dataclass(frozen=True, kw_only=True)
class Store:
    """Something the module writes personal data into.

    ``name`` identifies the store in evidence and in ``Retention.store``; it
    defaults to a description of the target. ``region`` is where it lives
    (e.g. ``"us-east-1"``), checked by the ``us-storage`` clause.
    ``decoders`` are encodings of the module's own that stored values can be in
    (``ValueDecoder``), opened before matching, besides the built-in ones.
    """

    kind: ClassVar[str] = "store"
    name: str = ""
    region: str | None = None
    decoders: tuple[ValueDecoder, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "decoders", tuple(self.decoders))
        if not self.name:
            object.__setattr__(self, "name", self.default_name())

    def default_name(self) -> str:
        return self.kind


@dataclass(frozen=True, kw_only=True)
class SQLStore(Store):
    """A relational database, given as a SQLAlchemy URL or an ``Engine``.

    Every table the connection can see is scanned, not only the module's ORM
    models. ``schemas`` limits the scan to named schemas where the database has
    several.
    """

    kind: ClassVar[str] = "sql"
    url: Any = field(kw_only=False)
    schemas: tuple[str, ...] | None = None

    def default_name(self) -> str:
        url = getattr(self.url, "url", self.url)  # an Engine carries its URL
        render = getattr(url, "render_as_string", None)
        text = render(hide_password=True) if render else str(url)
        return f"sql:{text}"


@dataclass(frozen=True, kw_only=True)
class FileStore(Store):
    """A directory tree of logs, exports or uploads; every file below it is read."""

    kind: ClassVar[str] = "files"
    root: Path = field(kw_only=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(os.fspath(self.root)))
        super().__post_init__()

    def default_name(self) -> str:
        return f"files:{self.root}"


@dataclass(frozen=True, kw_only=True)
class RedisStore(Store):
    """A Redis database, given as a ``redis://`` URL."""

    kind: ClassVar[str] = "redis"
    url: str = field(kw_only=False)

    def default_name(self) -> str:
        return f"redis:{self.url}"


@dataclass(frozen=True, kw_only=True)
class S3Store(Store):
    """An S3 bucket (optionally a key prefix), at AWS or an S3-compatible endpoint."""

    kind: ClassVar[str] = "s3"
    bucket: str = field(kw_only=False)
    prefix: str = ""
    endpoint_url: str | None = None

    def default_name(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"
