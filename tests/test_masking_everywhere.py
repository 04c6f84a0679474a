"""No output of a failing run shows a synthetic person's value unmasked.

One run of a module that breaks several clauses, whose adapter raises with a
person's e-mail in the message and whose service mail cannot be classified,
writes every output the suite has: the terminal (stdout and stderr), the JSON,
HTML and Markdown reports and the JUnit XML (captured output and log
included). Every value the run minted (each person's canary token, which
every text field carries, their phone and card numbers) is then searched for
in all of them, and so are the module's unsubscribe tokens, which let whoever
holds one unsubscribe its customer. With ``--privacy-unmask`` the same search
must find them: the positive control that the search can see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from pytest_stexcel_privacy.people.persons import CANARY_LENGTH, mint
from report_reading import read_report
from suites import IMPORTS, suite_class

SUITE = (
    IMPORTS
    + """
from typing import Any


class Leaky(
    mutants.LogPurgeOnlyForBuyers,  # deletion, found by the search: hypothesis prints it
    mutants.RefusesButLogsEmail,  # children: the refused child's e-mail in the log
    mutants.IgnoresOptOutForFlashSales,  # email-opt-out: marketing to an opted-out person
    mutants.AnalyticsToEu,  # us-storage: the e-mail in an EU analytics URL
):
    pass


class UnclassifiableServiceMail(mutants.ErpService):
    \"\"\"Service mail carries a category no rule knows and no List-Unsubscribe.\"\"\"

    def send_transactional(self, customer_id: int, subject: str) -> None:
        compose = self.relay.compose

        def unknown_category(*args: Any) -> Any:
            message = compose(*args)
            del message["X-Mail-Category"]
            message["X-Mail-Category"] = "digest"
            return message

        self.relay.compose = unknown_category
        try:
            super().send_transactional(customer_id, subject)
        finally:
            self.relay.compose = compose


class LoudAdapter(JewelryAdapter):
    \"\"\"Its payment step fails with the buyer's e-mail and card in the message.\"\"\"

    def register(self, person: Any) -> int:
        account = super().register(person)
        self.emails = {**getattr(self, "emails", {}), account: person.email}
        return account

    def purchase(self, account: int, card: Any) -> None:
        raise RuntimeError(
            f"gateway refused {self.emails[account]} paying with {card.number}"
        )


"""
    + suite_class("TestLeaky", "Leaky")
    + suite_class("TestBroken", "UnclassifiableServiceMail", "LoudAdapter")
)

# Under xdist the workers mint the persons: each writes what it minted when it finishes.
RECORD_MINTED = """
from pathlib import Path

from pytest_stexcel_privacy.people.persons import mint


def pytest_sessionfinish(session):
    # this run's own workers only (not the worker an outer xdist run may be on)
    worker = getattr(session.config, "workerinput", {}).get("workerid")
    if worker:
        Path(f"minted-{worker}.txt").write_text("\\n".join(sorted(mint.issued())))
"""

RUN = (
    "-p",
    "no:cacheprovider",
    "--privacy-max-examples=3",
    "--privacy-shrink-seconds=3",
    "--privacy-report=out",
    "--junitxml=junit.xml",
    "-o",
    "junit_logging=all",  # captured output and log in the XML too
    "-k",
    "TestLeaky or (TestBroken and (card or opt_outs))",
)


# The example module's unsubscribe links (https and mailto) carry a per-customer token.
UNSUBSCRIBE_TOKEN = re.compile(r"unsubscribe(?:\?c=|%20)\d+(?:&t=|%20)([0-9a-f]{32})")


def value_patterns(issued: set[str]) -> dict[str, re.Pattern[str]]:
    """How each minted value could appear: a canary in any case, a phone number in any
    punctuation (or none, or E.164), a card number plain or grouped."""
    patterns = {}
    for value in issued:
        if value.isalpha() and len(value) == CANARY_LENGTH:
            patterns[value] = re.compile(re.escape(value), re.IGNORECASE)
        elif value.startswith("("):
            area, exchange, line = re.findall(r"\d+", value)
            patterns[value] = re.compile(rf"{area}\D{{0,2}}{exchange}\D?{line}")
        else:
            groups = [value[i : i + 4] for i in range(0, len(value), 4)]
            patterns[value] = re.compile("[ -]?".join(groups))
    return patterns


def leaks(outputs: dict[str, str], issued: set[str]) -> Iterator[tuple[str, str]]:
    """(output, "output:line: what in which text") for each unmasked value found."""
    patterns = value_patterns(issued)
    # One search a line for all of them; only a line holding one is asked which.
    alternatives = "|".join(f"(?:{pattern.pattern})" for pattern in patterns.values())
    anyone = re.compile(alternatives or "(?!)", re.IGNORECASE)  # (?!): nothing minted
    for name, text in outputs.items():
        for number, line in enumerate(text.splitlines(), start=1):
            found = []
            if anyone.search(line):
                found = [value for value, pattern in patterns.items() if pattern.search(line)]
            found += [f"unsubscribe token {t}" for t in UNSUBSCRIBE_TOKEN.findall(line)]
            for value in found:
                yield name, f"{name}:{number}: {value!r} in {line.strip()[:200]!r}"


def run_failing_module(
    pytester: pytest.Pytester, *extra: str, workers: int = 0
) -> tuple[dict[str, str], set[str]]:
    """Every output of one failing run on ``workers`` xdist workers, and every value the
    run minted."""
    pytester.makepyfile(test_module=SUITE)
    pytester.makeconftest(RECORD_MINTED)
    before = mint.issued()
    result = pytester.runpytest_inprocess(*RUN, "-n", str(workers), *extra)
    issued = set(mint.issued() - before)
    records = list(pytester.path.glob("minted-*.txt"))
    assert len(records) == workers, records
    for record in records:
        issued.update(record.read_text().splitlines())
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    report = read_report(pytester.path / "out")
    statuses = report.clause_statuses()
    # The run shows what it must: several clauses broken, an adapter error, a mail error.
    for clause in ("deletion", "children", "email-opt-out", "us-storage"):
        assert statuses[clause] == "failed", (clause, statuses)
    assert statuses["card-data"] == "error", statuses
    summaries = [f["summary"] for f in report.findings(status="error")]
    assert any("LoudAdapter.purchase" in s for s in summaries), summaries
    assert any("cannot tell whether" in s for s in summaries), summaries
    out = pytester.path / "out"
    outputs = {
        "stdout": result.stdout.str(),
        "stderr": result.stderr.str(),
        "report.json": (out / "report.json").read_text(encoding="utf-8"),
        "report.html": (out / "report.html").read_text(encoding="utf-8"),
        "report.md": (out / "report.md").read_text(encoding="utf-8"),
        "junit.xml": (pytester.path / "junit.xml").read_text(encoding="utf-8"),
    }
    assert issued, "the run minted no persons"
    return outputs, issued


@pytest.mark.parametrize("workers", [0, 2], ids=["plain", "xdist"])
def test_no_output_of_a_failing_run_shows_a_synthetic_value(
    pytester: pytest.Pytester, workers: int
) -> None:
    outputs, issued = run_failing_module(pytester, workers=workers)
    found = [leak for _, leak in leaks(outputs, issued)]
    assert not found, f"{len(found)} unmasked value(s):\n" + "\n".join(found)


def test_unmasked_run_shows_the_values_the_search_looks_for(pytester: pytest.Pytester) -> None:
    outputs, issued = run_failing_module(pytester, "--privacy-unmask")
    found = list(leaks(outputs, issued))
    seen = {output for output, leak in found if "unsubscribe token" not in leak}
    assert seen >= {"stdout", "report.json", "report.html", "report.md", "junit.xml"}
    assert any("unsubscribe token" in leak for _, leak in found)


PRINTED_EXAMPLE = """
from hypothesis import given, settings, strategies as st
from pytest_stexcel_privacy.people.persons import assemble

PERSON = assemble(given="Ada", family="Wire")


@settings(database=None)
@given(st.just(PERSON))
def test_prints_the_person(person):
    print("checking", person.email, person.phone)
    assert person.card.number == ""
"""


@pytest.mark.parametrize("unmask", [False, True], ids=["masked", "unmasked"])
def test_hypothesis_examples_and_captured_output_are_masked(
    pytester: pytest.Pytester, unmask: bool
) -> None:
    """Hypothesis prints a dataclass field by field, whatever its repr: a user's test that
    draws a person still shows none of its values, unless unmasking was asked for."""
    pytester.makepyfile(test_user=PRINTED_EXAMPLE)
    before = mint.issued()
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", *(["--privacy-unmask"] if unmask else [])
    )
    issued = mint.issued() - before
    result.assert_outcomes(failed=1)
    output = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    assert "Falsifying example" in output["stdout"] or "Failing test case" in output["stdout"]
    found = [leak for _, leak in leaks(output, issued)]
    if unmask:
        assert len({leak.split("'")[1] for leak in found}) == len(issued), found
    else:
        assert not found, "\n".join(found)
