"""``PrivacySuite``: every check, bundled for one subclass in the user's test module."""

from __future__ import annotations

from .account_disconnect import AccountDisconnectChecks
from .card_data import CardDataChecks
from .children import ChildrenChecks
from .deletion import DeletionChecks
from .email_opt_out import EmailOptOutChecks
from .lifecycle import LifecycleChecks
from .policy_notice import PolicyNoticeChecks
from .shine_the_light import ShineTheLightChecks
from .third_party_sharing import ThirdPartySharingChecks
from .us_storage import UsStorageChecks


class PrivacySuite(
    DeletionChecks,
    ChildrenChecks,
    EmailOptOutChecks,
    UsStorageChecks,
    CardDataChecks,
    ThirdPartySharingChecks,
    AccountDisconnectChecks,
    PolicyNoticeChecks,
    ShineTheLightChecks,
    LifecycleChecks,
):
    """Subclass this in a test module and provide a ``privacy_adapter`` fixture.

    ``class TestMyModule(PrivacySuite)`` collects every check of every clause.
    The fixture may be a method of the subclass or live in ``conftest.py``;
    it returns an instance of your :class:`~pytest_stexcel_privacy.PrivacyAdapter`.
    Select one clause with ``-m "privacy"`` and ``-k``, e.g. ``-k deletion``.
    """
