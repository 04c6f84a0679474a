"""The jewelry ERP's privacy_adapter fixture: one fresh module per check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from privacy_adapter import JewelryAdapter
from pytest_stexcel_privacy.mail_sink import MailSink
from pytest_stexcel_privacy.processor_sink import ProcessorSink


@pytest.fixture
def privacy_adapter(
    tmp_path: Path, processor_sink: ProcessorSink, mail_sink: MailSink
) -> Iterator[JewelryAdapter]:
    """The module sends its provider calls and its e-mail to the suite's sinks."""
    adapter = JewelryAdapter(tmp_path, processor_sink.url_for("mailing"), mail_sink.address)
    yield adapter
    adapter.close()
