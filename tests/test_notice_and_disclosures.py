"""policy-notice and shine-the-light on correct variants of the example: no false alarms.

The mutants (``mutants.py``) prove each check catches a broken module; these prove
a correct module written another way passes: one notice to every account in Bcc,
a disclosure list spelt in other case with spaces, a module answering every request,
and a wrong answer's type is an error naming the method, never a verdict.
"""

from __future__ import annotations

import pytest

from report_reading import REPORT_DIR, REPORT_OPTION, Report, described, read_report
from suites import IMPORTS, suite_class

NOTICE = "test_policy_change_notice_reaches_every_account"
DISCLOSURE = "test_disclosure_list_names_the_marketing_recipients"

VARIANTS = """
import sqlalchemy as sa
from sqlalchemy.orm import Session

from jewelry_erp import ErpService
from jewelry_erp.models import Customer
from jewelry_erp.service import POLICY_NOTICE_SUBJECT


class NoticeByBcc(ErpService):
    \"\"\"One message, every account in Bcc: each address is an envelope recipient.\"\"\"

    def announce_policy_change(self):
        with Session(self.engine) as session:
            addresses = session.scalars(sa.select(Customer.email)).all()
        message = self.relay.compose(0, "undisclosed-recipients:;", POLICY_NOTICE_SUBJECT,
                                     "Our privacy policy changed.", "notice")
        message["Bcc"] = ", ".join(addresses)
        return self.relay.send([message])


class ListSpeltOtherwise(ErpService):
    def third_parties_disclosed_for_direct_marketing(self, year, customer_id=None):
        names = super().third_parties_disclosed_for_direct_marketing(year, customer_id)
        return [f"  {name.upper()} " for name in names]


class ListAsText(ErpService):
    def third_parties_disclosed_for_direct_marketing(self, year, customer_id=None):
        return ", ".join(super().third_parties_disclosed_for_direct_marketing(year, customer_id))


class AnswersEveryRequest(JewelryAdapter):
    disclosure_requests_limited = False

    def third_parties_disclosed_for_direct_marketing(self, year, account=None):
        assert account is None, "the suite passed an account to an unlimited module"
        return self.service.third_parties_disclosed_for_direct_marketing(year)
"""


def run_check(
    pytester: pytest.Pytester, check: str, service: str = "None", adapter: str = "JewelryAdapter"
) -> Report:
    pytester.makepyfile(
        test_variant=IMPORTS + VARIANTS + suite_class("TestVariant", service, adapter)
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider", REPORT_OPTION, "-k", check)
    return read_report(pytester.path / REPORT_DIR)


def test_a_notice_to_every_account_in_bcc_reaches_each(pytester: pytest.Pytester) -> None:
    report = run_check(pytester, NOTICE, "NoticeByBcc")
    assert report.check_statuses() == {NOTICE: "passed"}, report.data


def test_party_names_compare_in_any_case_and_spacing(pytester: pytest.Pytester) -> None:
    report = run_check(pytester, DISCLOSURE, "ListSpeltOtherwise")
    assert report.check_statuses() == {DISCLOSURE: "passed"}, report.data


def test_a_module_answering_every_request_is_asked_by_year_alone(
    pytester: pytest.Pytester,
) -> None:
    report = run_check(pytester, DISCLOSURE, adapter="AnswersEveryRequest")
    assert report.check_statuses() == {DISCLOSURE: "passed"}, report.data


def test_a_list_that_is_not_a_list_is_an_error_naming_the_method(
    pytester: pytest.Pytester,
) -> None:
    report = run_check(pytester, DISCLOSURE, "ListAsText")
    assert report.check_statuses() == {DISCLOSURE: "error"}, report.data
    (finding,) = report.findings("shine-the-light")
    text = described(finding)
    assert "JewelryAdapter.third_parties_disclosed_for_direct_marketing(" in text, text
    assert "returned str; it must return a list" in text, text
