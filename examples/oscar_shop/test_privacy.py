"""The whole Stexcel privacy suite, run against a shop built on django-oscar."""

from pytest_stexcel_privacy import PrivacySuite


class TestOscarShop(PrivacySuite):
    pass
