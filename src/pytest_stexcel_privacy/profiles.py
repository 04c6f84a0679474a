"""Hypothesis profiles for privacy checks: how hard to search, chosen per run.

Every example of a privacy check drives a whole module and scans every
store, so the right amount of search differs between a developer's loop, a
merge gate and a nightly hunt. Select one with ``--hypothesis-profile``;
without one, ``privacy-ci`` applies. A profile of the user's own is used as
it is. The report records which profile ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypothesis import settings

DEFAULT_PROFILE = "privacy-ci"
PROFILES: dict[str, dict[str, Any]] = {
    "privacy-dev": {"max_examples": 5, "stateful_step_count": 20},
    "privacy-ci": {"max_examples": 20, "stateful_step_count": 50},
    "privacy-deep": {"max_examples": 200, "stateful_step_count": 100},
}


def register_profiles() -> None:
    """Make the privacy profiles loadable by name (hypothesis's ``--hypothesis-profile``)."""
    from hypothesis import settings as hypothesis_settings

    for name, values in PROFILES.items():
        hypothesis_settings.register_profile(name, deadline=None, **values)


def profile_settings(name: str | None) -> settings:
    """The settings a check starts from: the named profile, else ``privacy-ci``."""
    from hypothesis import settings as hypothesis_settings

    register_profiles()
    return hypothesis_settings.get_profile(name or DEFAULT_PROFILE)


def unknown_profile(name: str) -> str | None:
    """Why ``--hypothesis-profile=name`` cannot load, or None if it can.

    Asked before hypothesis's own plugin loads the profile, which would end
    the run with an INTERNALERROR and no list of what exists.
    """
    from hypothesis import settings as hypothesis_settings
    from hypothesis.errors import InvalidArgument

    register_profiles()
    try:
        hypothesis_settings.get_profile(name)
    except InvalidArgument:
        return (
            f"--hypothesis-profile={name!r} is not a registered hypothesis profile; this "
            f"plugin's are {', '.join(PROFILES)} (default {DEFAULT_PROFILE}), hypothesis's "
            "own 'default' and 'ci', and any your conftest.py registers with "
            "settings.register_profile()"
        )
    return None
