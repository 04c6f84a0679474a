"""The whole Stexcel privacy suite, run against the jewelry ERP."""

from pytest_stexcel_privacy import PrivacySuite


class TestJewelryErp(PrivacySuite):
    pass
