"""Why a check could not reach a verdict.

Each of these makes a check report *error*, never *passed*: the plugin fails
closed when it could not look.
"""

from __future__ import annotations


class PrivacyPluginError(Exception):
    """Base class of every error the plugin raises on purpose."""


class AdapterContractError(PrivacyPluginError):
    """The adapter (or the ``privacy_adapter`` fixture) does not meet the contract."""


class AdapterCallError(PrivacyPluginError):
    """An adapter method raised; the message names the method and the exception."""


class AdapterCallTimeout(AdapterCallError):
    """An adapter method did not return within ``--privacy-call-timeout``."""


class StoreUnreadable(PrivacyPluginError):
    """A store could not be opened or read to the end, so its residue is unknown."""

    def __init__(self, store: str, detail: str) -> None:
        super().__init__(f"store {store!r} could not be read: {detail}")
        self.store = store
        self.detail = detail


class RequestUnreadable(PrivacyPluginError):
    """A request the module sent to a provider could not be read to its end, so what it
    carried is unknown."""


class CheckInconclusive(PrivacyPluginError):
    """The check ran but what it saw cannot support a verdict either way."""
