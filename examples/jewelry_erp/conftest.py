"""The jewelry ERP's privacy_adapter fixture: one fresh module per check."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_stexcel_privacy import MailSink, ProcessorSink

if TYPE_CHECKING:
    from privacy_adapter import JewelryAdapter


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--jewelry-postgres",
        default=os.environ.get("JEWELRY_POSTGRES_URL"),
        metavar="URL",
        help="run the jewelry ERP on PostgreSQL at URL (env JEWELRY_POSTGRES_URL), e.g. "
        "postgresql+psycopg://postgres@127.0.0.1/test; SQLite otherwise",
    )


@pytest.fixture
def privacy_adapter(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    processor_sink: ProcessorSink,
    mail_sink: MailSink,
    s3_server: str,
) -> Iterator[JewelryAdapter]:
    """The module sends its provider calls and e-mail to the suite's sinks, and keeps its
    attachments in an S3 bucket on a local S3 server.

    The module is imported here, at the first check, not with this file: under xdist the
    controller, which runs no check, reads this file too, before it starts the workers.
    """
    from privacy_adapter import on_sinks

    yield from on_sinks(
        tmp_path,
        processor_sink,
        mail_sink,
        s3_server,
        postgres_url=request.config.getoption("--jewelry-postgres"),
    )
