"""Test modules that subclass PrivacySuite as users write them, for pytester runs.

Each class runs the jewelry ERP on the suite's sinks, with one of its broken
variants (``mutants.py``) or one a test defines next to it.
"""

from __future__ import annotations

IMPORTS = """
import pytest
from privacy_adapter import JewelryAdapter, on_sinks
from pytest_stexcel_privacy import PrivacySuite
import mutants
"""


def suite_class(name: str, service: str = "None", adapter: str = "JewelryAdapter") -> str:
    """The source of a ``PrivacySuite`` subclass ``name`` whose module is ``service`` (an
    ErpService class, by expression; None: the reference) driven by ``adapter``."""
    return f"""

class {name}(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, processor_sink, mail_sink, s3_server):
        yield from on_sinks(
            tmp_path,
            processor_sink,
            mail_sink,
            s3_server,
            service_class={service},
            adapter_class={adapter},
        )
"""
