"""A failed check's first screen: clause, what, where, the shortest example, and the
module's own exception once; pytest's whole traceback only when asked for."""

from __future__ import annotations

import pytest

HEADER = """
import pytest
from toy_adapter import ToyAdapter
from pytest_stexcel_privacy import PrivacySuite
"""

KEEPS_EVERYTHING = """
class Keeping(ToyAdapter):
    def delete(self, account):
        pass

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Keeping(tmp_path)
"""

CRASHES = """
class Crashing(ToyAdapter):
    def delete(self, account):
        self._purge_mail_queue(account)

    def _purge_mail_queue(self, account):
        raise RuntimeError("mail queue unavailable")

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Crashing(tmp_path)
"""

NO_FIXTURE = """
class TestMine(PrivacySuite):
    pass
"""

# Frames of the plugin's own machinery, which a user never needs to read.
INTERNALS = ("state_machines.py", "checked.py", "pluggy", "_pytest", "hypothesis/core.py")


def run(pytester: pytest.Pytester, body: str, *args: str) -> str:
    pytester.makepyfile(test_module=HEADER + body)
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--privacy-max-examples=3",
        "--privacy-clauses=deletion*",
        "-k",
        "not lifecycle",
        *args,
    )
    return result.stdout.str()


def failures_section(output: str) -> str:
    start = max(output.find("= FAILURES ="), output.find("= ERRORS ="))
    return output[start : output.index("Stexcel privacy policy: clauses")]


def test_a_violation_shows_its_finding_and_no_internals(pytester: pytest.Pytester) -> None:
    section = failures_section(run(pytester, KEEPS_EVERYTHING))
    lines = section.splitlines()
    assert lines[2].startswith("[deletion] 3 trace(s) of the deleted person survived delete()")
    assert "toy-db people.email [id=1]: email as exact" in section
    assert not [name for name in INTERNALS if name in section]
    assert len(lines) < 12, section


def test_the_short_summary_starts_with_the_clause(pytester: pytest.Pytester) -> None:
    output = run(pytester, KEEPS_EVERYTHING)
    assert "FAILED test_module.py::TestMine::test_deletion_leaves_no_residue - [deletion]" in (
        output
    )


def test_an_adapter_exception_shows_the_modules_frames_once(pytester: pytest.Pytester) -> None:
    section = failures_section(run(pytester, CRASHES))
    assert "AdapterCallError: Crashing.delete(account) -> None raised RuntimeError" in section
    assert 'in _purge_mail_queue\n    raise RuntimeError("mail queue unavailable")' in section
    assert section.count("RuntimeError: mail queue unavailable") == 1
    assert "During handling of the above exception" not in section
    assert not [name for name in INTERNALS if name in section]


def test_the_same_setup_error_is_shown_in_full_once(pytester: pytest.Pytester) -> None:
    section = failures_section(run(pytester, NO_FIXTURE))
    assert section.count("Define it next to your suite") == 1
    assert section.count("(the same error as test_module.py::TestMine::") == 2


@pytest.mark.parametrize("asked", [["-vv"], ["--tb=long"]])
def test_the_whole_traceback_when_asked_for(pytester: pytest.Pytester, asked: list[str]) -> None:
    section = failures_section(run(pytester, CRASHES, *asked))
    assert "During handling of the above exception" in section or "checked.py" in section


UNREADABLE = """
from pytest_stexcel_privacy import SQLStore

class Unreadable(ToyAdapter):
    def stores(self):
        return [SQLStore("sqlite:////nonexistent/dir/x.db", name="gone-db")]

class TestMine(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path):
        return Unreadable(tmp_path)
"""


def test_a_setup_error_is_printed_once(pytester: pytest.Pytester) -> None:
    section = failures_section(run(pytester, UNREADABLE))
    assert section.count("store 'gone-db' could not be read") == 1
    assert "During handling of the above exception" not in section
    assert "The above exception was the direct cause" not in section
