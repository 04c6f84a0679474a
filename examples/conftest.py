"""The examples: the oscar shop is collected only under its own Django settings.

Django's settings are process-wide, so the oscar shop runs in a pytest of its own:
``python -m pytest examples/oscar_shop --ds=oscar_shop.settings`` (the repository's
tests run it so, in a subprocess).
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.name != "oscar_shop":
        return None
    try:
        from django.conf import settings
    except ImportError:
        return True
    return not (settings.configured and "oscar_shop.shop" in settings.INSTALLED_APPS)
