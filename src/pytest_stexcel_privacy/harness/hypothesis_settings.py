"""The hypothesis settings every privacy property and state machine runs with."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, settings

from ..profiles import profile_settings
from ..settings import PrivacySettings


def search_settings(privacy: PrivacySettings, **overrides: Any) -> settings:
    """The run's hypothesis profile, with no deadline (one example drives a whole module),
    shrinking as configured and ``--privacy-max-examples`` if given.

    ``overrides`` win over the profile, e.g. a machine's ``stateful_step_count``.
    """
    phases = [p for p in Phase if p != Phase.explain]
    if privacy.shrink_seconds == 0:
        phases.remove(Phase.shrink)
    if privacy.max_examples is not None:
        overrides.setdefault("max_examples", privacy.max_examples)
    return settings(
        profile_settings(privacy.hypothesis_profile),
        deadline=None,
        phases=phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        **overrides,
    )
