"""The adapter contract as users meet it: one clear message per mistake, at setup."""

from __future__ import annotations

import pytest

from report_reading import (
    REPORT_DIR,
    REPORT_OPTION,
    Report,
    assert_checks_ended,
    read_report,
    statuses_for,
    suite_checks,
)
from toy_adapter import TOY_CAPABILITIES, hung_calls_released

HEADER = """
import pytest
from toy_adapter import ToyAdapter
from pytest_stexcel_privacy import PrivacySuite, SQLStore, FileStore
"""


# The contract is shown on the deletion checks; the other clauses, and the lifecycle that
# spans them, have their own tests.
DELETION_CHECKS = suite_checks("deletion*", excluding="lifecycle")


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_module=HEADER + body)
    return pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--privacy-max-examples=3",
        "--privacy-clauses=deletion*",
        "-k",
        "not lifecycle",
        REPORT_OPTION,
        *args,
    )


def report_of(pytester: pytest.Pytester) -> Report:
    return read_report(pytester.path / REPORT_DIR)


def assert_every_check_errors_at_setup(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    expected = dict.fromkeys(DELETION_CHECKS, "error")
    assert_checks_ended(result, pytester.path / REPORT_DIR, expected)


def assert_toy_run(pytester: pytest.Pytester, result: pytest.RunResult, verdict: str) -> None:
    """Each deletion check a ToyAdapter variant can run ended in ``verdict``; those needing
    an optional capability the toy lacks are not applicable."""
    expected = statuses_for(DELETION_CHECKS, TOY_CAPABILITIES, verdict)
    assert_checks_ended(result, pytester.path / REPORT_DIR, expected)


def test_missing_fixture_says_what_to_define(pytester: pytest.Pytester) -> None:
    result = run(pytester, "class TestMine(PrivacySuite):\n    pass\n")
    assert_every_check_errors_at_setup(pytester, result)
    result.stdout.fnmatch_lines(
        ["*needs a fixture named 'privacy_adapter'*", "*def privacy_adapter(self*"]
    )
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("None", "*returned None*forget 'return'*"),
        ("ToyAdapter", "*returned the class ToyAdapter, not an instance*"),
        ("{'register': 1}", "*returned 'dict'*not a PrivacyAdapter*"),
    ],
)
def test_fixture_returning_the_wrong_thing(
    pytester: pytest.Pytester, returned: str, message: str
) -> None:
    result = run(
        pytester,
        f"""
class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self):
        return {returned}
""",
    )
    assert_every_check_errors_at_setup(pytester, result)
    result.stdout.fnmatch_lines([message])


def test_missing_required_method_is_named(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
class NoDelete(ToyAdapter):
    delete = ToyAdapter.__mro__[1].delete   # the base placeholder

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return NoDelete(tmp_path)
""",
    )
    assert_every_check_errors_at_setup(pytester, result)  # every deletion check needs delete()
    result.stdout.fnmatch_lines(
        ["*NoDelete does not implement delete(account) -> None, which clause 'deletion' needs*"]
    )


def test_optional_capabilities_are_not_applicable_never_passed(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return ToyAdapter(tmp_path)
""",
        "-rs",
    )
    assert_toy_run(pytester, result, "passed")
    result.stdout.fnmatch_lines(["*not applicable: ToyAdapter does not implement processors()*"])
    assert report_of(pytester).tested_clauses() == {
        "deletion": "passed",
        "deletion-processors": "not applicable",
        "deletion-exceptions": "not applicable",
    }


def test_store_that_cannot_be_opened_is_named_at_setup(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
class Broken(ToyAdapter):
    def stores(self):
        return [*super().stores(), FileStore(self.path.parent / "no-such-dir", name="uploads")]

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Broken(tmp_path)
""",
    )
    assert_toy_run(pytester, result, "error")
    result.stdout.fnmatch_lines(
        ["*StoreUnreadable: store 'uploads' could not be read: root*no-such-dir* does not exist*"]
    )


def test_a_bad_setting_errors_every_check_at_setup(pytester: pytest.Pytester) -> None:
    # Settings are checked once, at setup, whatever the clause: a time zone only the children
    # checks use still errors the deletion check, which would otherwise pass.
    result = run(
        pytester,
        """
class Martian(ToyAdapter):
    time_zone = "Mars/Olympus_Mons"

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Martian(tmp_path)
""",
    )
    # every check errors, even those whose optional capability is missing: settings are
    # read before capabilities, since one (sends_email) decides which are needed
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        ["*AdapterContractError: Martian.time_zone = 'Mars/Olympus_Mons' is not an IANA*"]
    )


@pytest.mark.parametrize(
    ("stores", "message"),
    [
        ("'sqlite:///x.db'", "*stores() returned str; it must return a list of Store*"),
        ("[42]", "*stores() returned an item 42 of type int; each must be a Store*"),
        ("[]", "*stores() returned no stores*"),
        ("[FileStore('.', name='a'), FileStore('.', name='a')]", "*two stores named 'a'*"),
    ],
)
def test_stores_of_the_wrong_shape(pytester: pytest.Pytester, stores: str, message: str) -> None:
    result = run(
        pytester,
        f"""
class Odd(ToyAdapter):
    def stores(self):
        return {stores}

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Odd(tmp_path)
""",
    )
    assert_toy_run(pytester, result, "error")
    result.stdout.fnmatch_lines([message])


def test_adapter_raising_mid_delete_is_an_error_naming_the_method(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
class Crashing(ToyAdapter):
    def delete(self, account):
        raise RuntimeError("mail queue unavailable")

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Crashing(tmp_path)
""",
    )
    assert_toy_run(pytester, result, "error")
    result.stdout.fnmatch_lines(
        [
            "*AdapterCallError: Crashing.delete(account) -> None raised RuntimeError:"
            " mail queue unavailable*"
        ]
    )
    # pytest's words match the clause table's: errors, not failures
    result.stdout.fnmatch_lines(["*ERROR at call of*", "*ERROR test_module.py::*"])
    assert "failed" not in result.stdout.lines[-1]
    assert report_of(pytester).clause_statuses()["deletion"] == "error"


@pytest.mark.parametrize(
    "register",
    [
        "super().register(person)",  # forgot 'return': the row is written, the id is lost
        "return None",
    ],
)
def test_register_returning_none_is_an_error_naming_the_method(
    pytester: pytest.Pytester, register: str
) -> None:
    result = run(
        pytester,
        f"""
class Forgot(ToyAdapter):
    def register(self, person):
        {register}

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Forgot(tmp_path)
""",
    )
    assert_toy_run(pytester, result, "error")
    report = report_of(pytester)
    assert report.clause_statuses()["deletion"] == "error"
    (finding,) = report.findings("deletion")
    assert "Forgot.register(person) returned None" in finding["summary"]
    assert "delete(account)" in finding["summary"]


@pytest.mark.parametrize(
    ("returned", "what"),
    [
        ("False", "returned False"),
        ("types.SimpleNamespace(status_code=404)", "HTTP status 404"),
        ("LookupError('no such customer')", "returned LookupError('no such customer')"),
    ],
)
def test_delete_reporting_that_it_found_no_account_is_an_error(
    pytester: pytest.Pytester, returned: str, what: str
) -> None:
    result = run(
        pytester,
        f"""
import types

class Lost(ToyAdapter):
    def register(self, person):
        super().register(person)
        return person.email  # not the id delete() looks the account up by

    def delete(self, account):
        super().delete(account)
        return {returned}

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Lost(tmp_path)
""",
    )
    assert_toy_run(pytester, result, "error")
    (finding,) = report_of(pytester).findings("deletion")
    assert finding["summary"].startswith("AdapterCallError: Lost.delete(account)"), finding
    assert what in finding["summary"]


def test_module_that_stores_nothing_cannot_pass(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
class Forgetful(ToyAdapter):
    def register(self, person):
        return 1

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Forgetful(tmp_path)
""",
    )
    assert_toy_run(pytester, result, "error")
    result.stdout.fnmatch_lines(["*no declared store holds any trace of the person*"])
    assert report_of(pytester).clause_statuses()["deletion"] == "error"


def test_fixture_in_conftest_works_and_clause_ids_reach_junit(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
from toy_adapter import ToyAdapter

@pytest.fixture
def privacy_adapter(tmp_path):
    return ToyAdapter(tmp_path)
"""
    )
    result = run(pytester, "class TestMine(PrivacySuite):\n    pass\n", "--junitxml=junit.xml")
    assert_toy_run(pytester, result, "passed")
    xml = (pytester.path / "junit.xml").read_text()
    assert '<property name="privacy_clause" value="deletion" />' in xml
    assert '<property name="privacy_status" value="passed" />' in xml
    assert '<property name="privacy_status" value="not applicable" />' in xml


def test_privacy_marker_counts_a_users_own_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.privacy("children")
def test_my_age_gate():
    assert False, "refused nobody"
""",
        "--privacy-clauses=children",
    )
    result.assert_outcomes(errors=1)  # not a violation: an error, as the clause table says
    report = report_of(pytester)
    assert report.check_statuses() == {"test_my_age_gate": "error"}
    assert report.tested_clauses() == {"children": "error"}


def test_privacy_marker_with_unknown_clause_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run(pytester, "@pytest.mark.privacy('gdpr')\ndef test_x():\n    pass\n")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown privacy clause 'gdpr'*"])


def test_on_an_xdist_worker_the_unknown_clause_errors_its_test_with_the_reason(
    pytester: pytest.Pytester,
) -> None:
    """A worker's usage error reached the user as xdist's INTERNALERROR, without it."""
    result = run(pytester, "@pytest.mark.privacy('gdpr')\ndef test_x():\n    pass\n", "-n", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*test_x: bad @pytest.mark.privacy: unknown privacy clause 'gdpr'*"]
    )


def test_a_hanging_delete_is_bounded_by_the_call_timeout(pytester: pytest.Pytester) -> None:
    """Every adapter call of the deletion checks runs under --privacy-call-timeout: a delete()
    that never returns makes the checks error instead of hanging the run."""
    with hung_calls_released():
        result = run(
            pytester,
            """
import toy_adapter

class Stuck(ToyAdapter):
    def delete(self, account):
        toy_adapter.hang()

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Stuck(tmp_path)
""",
            "--privacy-call-timeout=0.5",
        )
    assert_toy_run(pytester, result, "error")
    result.stdout.fnmatch_lines(["*Stuck.delete(account) -> None did not return within 0.5 s*"])


def test_card_data_needs_to_see_the_buyer_before_trusting_an_absence(
    pytester: pytest.Pytester,
) -> None:
    """Positive control: a module whose stores show nothing of the buyer cannot pass
    card-data; finding no card number there proves nothing."""
    run(
        pytester,
        """
class Ghost(ToyAdapter):
    def register(self, person):
        return 1  # keeps nothing anywhere the suite was told of

    def purchase(self, account, card):
        pass

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Ghost(tmp_path)
""",
        "--privacy-clauses=card-data",
    )
    report = report_of(pytester)
    assert report.clause_statuses()["card-data"] == "error"
    (finding,) = report.findings("card-data")
    assert "no declared store holds any trace of the buyer" in finding["summary"]
