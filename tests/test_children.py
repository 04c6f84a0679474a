"""The children clause: the oracle, the edges the search reaches, and modules that misbehave."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from pytest_stexcel_privacy.people.ages import AgeCase, age_on, thirteenth_birthday, verdict
from pytest_stexcel_privacy.people.strategies import age_cases
from report_reading import (
    REPORT_DIR,
    REPORT_OPTION,
    assert_checks_ended,
    described,
    read_report,
    statuses_for,
    suite_checks,
)
from toy_adapter import TOY_CAPABILITIES, hung_calls_released

CHILDREN_CHECKS = suite_checks("children")


def slow_age(born: date, day: date, leap: str) -> int:
    """Count birthdays one year at a time: obviously right, too slow for the suite."""
    age = 0
    year = born.year + 1
    while True:
        try:
            birthday = born.replace(year=year)
        except ValueError:
            birthday = date(year, 3, 1) if leap == "march-1" else date(year, 2, 28)
        if birthday > day:
            return age
        age += 1
        year += 1


@given(
    st.dates(date(1890, 1, 1), date(2040, 12, 31)),
    st.dates(date(1900, 1, 1), date(2045, 12, 31)),
    st.sampled_from(["march-1", "february-28"]),
)
def test_age_matches_counting_birthdays(born: date, day: date, leap: str) -> None:
    if born <= day:
        assert age_on(born, day, leap) == slow_age(born, day, leap)
    else:
        assert age_on(born, day, leap) < 0


@pytest.mark.parametrize(
    ("born", "day", "leap", "age"),
    [
        (date(2012, 2, 29), date(2025, 2, 28), "march-1", 12),
        (date(2012, 2, 29), date(2025, 3, 1), "march-1", 13),
        (date(2012, 2, 29), date(2025, 2, 28), "february-28", 13),
        (date(2012, 2, 29), date(2024, 2, 29), "march-1", 12),
        (date(2013, 6, 15), date(2026, 6, 15), "march-1", 13),
        (date(2013, 6, 15), date(2026, 6, 14), "march-1", 12),
    ],
)
def test_age_at_the_edges(born: date, day: date, leap: str, age: int) -> None:
    assert age_on(born, day, leap) == age


def test_verdicts() -> None:
    day = date(2026, 6, 15)
    assert verdict(None, day) == "refuse"
    assert verdict(date(2027, 1, 1), day) == "refuse"
    assert verdict(date(2013, 6, 16), day) == "refuse"
    assert verdict(date(2013, 6, 15), day) == "accept"
    assert verdict(date(1890, 1, 1), day) == "either"


@pytest.mark.parametrize(
    "edge",
    [
        lambda c: c.born is not None and thirteenth_birthday(c.born) == c.day,
        lambda c: c.born is not None and thirteenth_birthday(c.born) == c.day + timedelta(1),
        lambda c: (
            c.born is not None
            and (c.born.month, c.born.day) == (2, 29)
            and c.day.year == c.born.year + 13
            and (c.day.month, c.day.day) in ((2, 28), (3, 1))
        ),
        lambda c: c.born is not None and c.born > c.day,
        lambda c: c.born is not None and age_on(c.born, c.day) > 120,
        lambda c: c.born is None,
        lambda c: c.moment.hour == 23 and c.moment.minute == 59 and c.moment.second == 59,
    ],
    ids=["13th-birthday", "day-before", "leap-day", "future", "ancient", "missing", "midnight"],
)
def test_the_search_reaches_every_edge_on_purpose(edge: object) -> None:
    # Generation alone, from no saved example: whether the search reaches the edge, not
    # how small hypothesis then makes what it found (shrinking took most of 2 to 3 s).
    alone = settings(max_examples=2000, phases=[Phase.generate], database=None)
    found = find(age_cases("America/Los_Angeles"), edge, settings=alone)  # type: ignore[arg-type]
    assert isinstance(found, AgeCase)
    assert found.moment.tzname() in ("PST", "PDT")


TOY = """
from datetime import date
import pytest
import toy_adapter
from toy_adapter import ToyAdapter
from pytest_stexcel_privacy import PrivacySuite, RegistrationRejected


def age(born):
    today = date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class Gate(ToyAdapter):
    def register(self, person):
        {gate}
        return super().register(person)


class TestToy(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        adapter = Gate(tmp_path)
        {configure}
        return adapter
"""

CORRECT = (
    "if person.birth_date is None or age(person.birth_date) < 13:\n"
    "            raise RegistrationRejected('too young')"
)


def run_toy(
    pytester: pytest.Pytester, gate: str, configure: str = "pass", *args: str
) -> pytest.RunResult:
    pytester.makepyfile(test_toy=TOY.format(gate=gate, configure=configure))
    return pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--privacy-clauses=children",
        "--privacy-max-examples=10",
        "--privacy-shrink-seconds=2",
        REPORT_OPTION,
        *args,
    )


def toy_statuses(verdict: str) -> dict[str, str]:
    """``verdict`` for each children check the toy can run (it has no update_birth_date:
    a check needing it is not applicable)."""
    return statuses_for(CHILDREN_CHECKS, TOY_CAPABILITIES, verdict)


def test_correct_gate_passes(pytester: pytest.Pytester) -> None:
    result = run_toy(pytester, CORRECT)
    assert_checks_ended(result, pytester.path / REPORT_DIR, toy_statuses("passed"))


def test_refusing_everybody_fails(pytester: pytest.Pytester) -> None:
    result = run_toy(pytester, "raise RegistrationRejected('closed')")
    # with no adult signed up, the no-trace check cannot prove it would see one: error
    expected = toy_statuses("passed") | {
        "test_age_gate_is_exact": "failed",
        "test_refused_child_leaves_no_trace": "error",
    }
    assert_checks_ended(result, pytester.path / REPORT_DIR, expected)
    result.stdout.fnmatch_lines(
        ["*refused someone aged 13 or over*", "*- born 2013-06-15*refusal: closed"]
    )


def test_signing_up_without_a_birth_date_fails(pytester: pytest.Pytester) -> None:
    gate = (
        "if person.birth_date is not None and age(person.birth_date) < 13:\n"
        "            raise RegistrationRejected('too young')"
    )
    result = run_toy(pytester, gate)
    result.stdout.fnmatch_lines(
        ["*[[]children] signed up a child under 13*", "*- no birth date given, signing up*"]
    )


def test_other_exception_for_a_child_is_an_error_not_a_pass(pytester: pytest.Pytester) -> None:
    gate = (
        "if person.birth_date is None or age(person.birth_date) < 13:\n"
        "            raise ValueError('age check failed')"
    )
    result = run_toy(pytester, gate)
    assert_checks_ended(result, pytester.path / REPORT_DIR, toy_statuses("error"))
    result.stdout.fnmatch_lines(["*AdapterCallError: Gate.register(person)*raised ValueError*"])


def test_hanging_register_is_bounded_and_an_error(pytester: pytest.Pytester) -> None:
    with hung_calls_released():
        result = run_toy(pytester, "toy_adapter.hang()", "pass", "--privacy-call-timeout=0.3")
    assert_checks_ended(result, pytester.path / REPORT_DIR, toy_statuses("error"))
    result.stdout.fnmatch_lines(["*register(person)*did not return within 0.3 s*"])


def test_bad_age_rules_error_at_setup_naming_the_attribute(pytester: pytest.Pytester) -> None:
    result = run_toy(pytester, CORRECT, "adapter.time_zone = 'Mars/Olympus_Mons'")
    # every check errors, the one whose optional capability is missing too: settings are
    # read before capabilities
    expected = dict.fromkeys(CHILDREN_CHECKS, "error")
    assert_checks_ended(result, pytester.path / REPORT_DIR, expected)
    result.stdout.fnmatch_lines(["*Gate.time_zone = 'Mars/Olympus_Mons' is not an IANA time zone*"])


def test_the_declared_leap_convention_is_the_one_held(pytester: pytest.Pytester) -> None:
    # The module's rule is "march-1" (tuple comparison); declaring february-28 must be caught.
    result = run_toy(pytester, CORRECT, "adapter.leap_day_birthday = 'february-28'")
    result.stdout.fnmatch_lines(
        [
            "*refused someone aged 13 or over*",
            "*- born 2012-02-29, signing up 2025-02-28 12:00:00 UTC*",
        ]
    )


BLOCKING = """
import sqlite3
from datetime import date
import pytest
from toy_adapter import ToyAdapter
from pytest_stexcel_privacy import PrivacySuite, RegistrationRejected


class Blocking(ToyAdapter):
    underage_handling = "block"

    def __init__(self, workdir):
        super().__init__(workdir)
        with sqlite3.connect(self.path) as db:
            db.execute("ALTER TABLE people ADD COLUMN blocked INTEGER DEFAULT 0")
            db.execute("CREATE TABLE mail_log (line TEXT)")

    def register(self, person):
        if person.birth_date is None or person.birth_date.year > date.today().year - 13:
            raise RegistrationRejected("too young")
        return super().register(person)

    def update_birth_date(self, account, birth_date):
        with sqlite3.connect(self.path) as db:
            db.execute("UPDATE people SET blocked = 1 WHERE id = ?", (account,))

    def send_marketing(self):
        with sqlite3.connect(self.path) as db:
            for (email,) in db.execute("SELECT email FROM people WHERE {where}").fetchall():
                db.execute("INSERT INTO mail_log VALUES (?)", ("campaign to " + email,))


class TestBlocking(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Blocking(tmp_path)
"""


@pytest.mark.parametrize(
    ("where", "outcome"),
    [("blocked = 0", "passed"), ("1 = 1", "failed")],
    ids=["blocks", "ignores"],
)
def test_blocking_is_checked_by_what_the_module_does_next(
    pytester: pytest.Pytester, where: str, outcome: str
) -> None:
    pytester.makepyfile(test_blocking=BLOCKING.format(where=where))
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--privacy-clauses=children",
        "--privacy-max-examples=5",
        "--privacy-shrink-seconds=1",
        "-k",
        "learned_later",
        REPORT_OPTION,
    )
    statuses = read_report(pytester.path / REPORT_DIR).check_statuses()
    assert statuses == {"test_child_learned_later_stops_processing": outcome}
    if outcome == "failed":
        result.stdout.fnmatch_lines(
            [
                "*kept processing a blocked child's account*",
                "*- toy-db mail_log.line [[]rowid=*]: email as exact*"
                "new since the account was blocked",
            ]
        )


REQUIRED = """
import sqlite3
from datetime import date
import pytest
from toy_adapter import ToyAdapter
from pytest_stexcel_privacy import PrivacySuite, RegistrationRejected


def age(born):
    today = date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class BornRequired(ToyAdapter):
    birth_date_required = True

    def __init__(self, workdir):
        super().__init__(workdir)
        with sqlite3.connect(self.path) as db:
            db.execute("CREATE TABLE births (person INTEGER PRIMARY KEY, born TEXT NOT NULL)")

    def register(self, person):
        born = person.birth_date
        if born is None:
            {missing}
        elif age(born) < 13:
            raise RegistrationRejected("too young")
        account = super().register(person)
        if born is not None:
            with sqlite3.connect(self.path) as db:
                db.execute("INSERT INTO births VALUES (?, ?)", (account, born.isoformat()))
        return account

    def update_birth_date(self, account, born):
        # The column cannot hold "no birth date": a correction to none fails, as it would
        # on the module's profile page.
        with sqlite3.connect(self.path) as db:
            db.execute(
                "UPDATE births SET born = ? WHERE person = ?",
                (born and born.isoformat(), account),
            )
            if age(born) < 13:
                db.execute("DELETE FROM people WHERE id = ?", (account,))
                db.execute("DELETE FROM births WHERE person = ?", (account,))


class TestRequired(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return BornRequired(tmp_path)
"""


def run_required(pytester: pytest.Pytester, missing: str) -> pytest.RunResult:
    pytester.makepyfile(test_required=REQUIRED.format(missing=missing))
    return pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--privacy-clauses=children",
        "--privacy-max-examples=40",
        "--privacy-shrink-seconds=1",
        REPORT_OPTION,
    )


def test_module_requiring_a_birth_date_passes_with_zero_findings(
    pytester: pytest.Pytester,
) -> None:
    result = run_required(pytester, "raise RegistrationRejected('a birth date is required')")
    expected = dict.fromkeys(CHILDREN_CHECKS, "passed")
    report = assert_checks_ended(result, pytester.path / REPORT_DIR, expected)
    assert [f["evidence"] for f in report.findings()] == [[]] * len(expected)


def test_module_declaring_birth_dates_required_but_accepting_none_fails(
    pytester: pytest.Pytester,
) -> None:
    result = run_required(pytester, "pass")
    expected = dict.fromkeys(CHILDREN_CHECKS, "failed")
    expected["test_child_learned_later_stops_processing"] = "passed"
    report = assert_checks_ended(result, pytester.path / REPORT_DIR, expected)
    for finding in report.findings("children", status="failed"):
        assert finding["summary"].startswith(
            "signed up someone who gave no birth date, although the adapter declares "
            "birth_date_required = True"
        ), finding
        assert described(finding).endswith(
            "no birth date given, signing up 2026-06-15 12:00:00 UTC"
        )


def test_a_module_whose_stores_show_no_sign_up_cannot_pass_no_trace(
    pytester: pytest.Pytester,
) -> None:
    """Positive control: finding nothing of a refused child means something only if an
    adult signed up the same way is found; a module that stores nowhere the suite can see
    is ERROR for that check, never PASSED."""
    keeps_nothing = CORRECT + "\n        return 7  # signs up, but keeps nothing anywhere"
    result = run_toy(pytester, keeps_nothing)
    expected = toy_statuses("passed") | {"test_refused_child_leaves_no_trace": "error"}
    assert_checks_ended(result, pytester.path / REPORT_DIR, expected)
    result.stdout.fnmatch_lines(["*no declared store holds any trace of them*"])


def test_a_refused_child_sent_out_on_a_connection_fails(pytester: pytest.Pytester) -> None:
    """Trying to tell an outside service about a child before refusing them leaves a trace
    even though the egress guard refused the connection: the check names it, masked."""
    phones_home = (
        "import urllib.parse, urllib.request\n"
        "        query = urllib.parse.urlencode({'email': person.email})\n"
        "        try:\n"
        "            urllib.request.urlopen('http://signups.example.net/?' + query, timeout=1)\n"
        "        except OSError:\n"
        "            pass\n        " + CORRECT
    )
    result = run_toy(pytester, phones_home)
    report = assert_checks_ended(
        result,
        pytester.path / REPORT_DIR,
        toy_statuses("passed") | {"test_refused_child_leaves_no_trace": "failed"},
    )
    (finding,) = report.findings("children", status="failed")
    assert "signups.example.net" in described(finding)
    assert "carrying email" in described(finding)
