"""pytest hooks and fixtures of pytest-stexcel-privacy (entry point ``pytest11``).

Only hooks and fixtures live here; each delegates to a module named for what
it does. Heavy imports (hypothesis, SQLAlchemy, Faker) happen inside fixtures,
so loading the plugin costs nothing to a run that selects no privacy test.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from .clause_results import CLAUSE_PROPERTY, STATUS_PROPERTY, ClauseRecorder, ClauseResults
from .clauses import clause as lookup_clause
from .outcomes import Status, phase_status
from .settings import PrivacySettings

if TYPE_CHECKING:
    from .harness import PrivacyHarness
    from .processor_sink import ProcessorSink
    from .scan import ResidueScanner

RESULTS_KEY = pytest.StashKey[ClauseResults]()
SETTINGS_KEY = pytest.StashKey[PrivacySettings]()
MARKER = "privacy"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stexcel-privacy", "Stexcel privacy policy checks")
    group.addoption(
        "--privacy-max-examples",
        type=int,
        default=None,
        help="hypothesis examples per property check (ini: privacy_max_examples, default 20)",
    )
    parser.addini("privacy_max_examples", "hypothesis examples per property check", default="20")
    group.addoption(
        "--privacy-processor-timeout",
        type=float,
        default=None,
        help="seconds to wait for a provider's deletion request "
        "(ini: privacy_processor_timeout, default 2)",
    )
    parser.addini(
        "privacy_processor_timeout", "seconds to wait for a provider's request", default="2"
    )
    group.addoption(
        "--privacy-shrink-seconds",
        type=float,
        default=None,
        help="seconds hypothesis may spend shrinking a failing example; 0 reports it "
        "unshrunk (ini: privacy_shrink_seconds, default 30)",
    )
    parser.addini(
        "privacy_shrink_seconds", "seconds to spend shrinking a failing example", default="30"
    )


def _number(config: pytest.Config, name: str, kind: type[Any], *, zero_ok: bool = False) -> Any:
    """The option's value, else the ini value; a usage error names both spellings."""
    raw = config.getoption(name)
    if raw is None:
        raw = config.getini(name)
    spelling = f"--{name.replace('_', '-')} (ini {name})"
    try:
        value = kind(raw)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise pytest.UsageError(f"{spelling} must be {expected}, got {raw!r}") from None
    if value < 0 or (value == 0 and not zero_ok):
        bound = "zero or more" if zero_ok else "positive"
        raise pytest.UsageError(f"{spelling} must be {bound}, got {raw!r}")
    return value


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(clause, *, needs=()): the test checks a clause of the Stexcel privacy "
        "policy (deletion, deletion-processors, deletion-exceptions, children, "
        "email-opt-out, us-storage, card-data); its outcome counts for that clause",
    )
    config.stash[SETTINGS_KEY] = PrivacySettings(
        max_examples=_number(config, "privacy_max_examples", int),
        processor_timeout=_number(config, "privacy_processor_timeout", float),
        shrink_seconds=_number(config, "privacy_shrink_seconds", float, zero_ok=True),
    )
    results = ClauseResults()
    config.stash[RESULTS_KEY] = results
    config.pluginmanager.register(ClauseRecorder(results), "stexcel-privacy-clauses")


def _marker_arguments(clause: str, *, needs: tuple[str, ...] = ()) -> tuple[str, tuple[str, ...]]:
    return clause, tuple(needs)


def privacy_marker(item: pytest.Item) -> tuple[str, tuple[str, ...]] | None:
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None
    try:
        clause, needs = _marker_arguments(*marker.args, **marker.kwargs)
        lookup_clause(clause)
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"{item.nodeid}: bad @pytest.mark.{MARKER}: {exc}") from None
    return clause, needs


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        found = privacy_marker(item)
        if found:
            item.user_properties.append((CLAUSE_PROPERTY, found[0]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if privacy_marker(item) is None:
        return report
    properties = dict(item.user_properties)
    previous = properties.get(STATUS_PROPERTY)
    status = phase_status(
        call.when,
        report.outcome,
        call.excinfo.value if call.excinfo else None,
        Status(previous) if isinstance(previous, str) else None,
    )
    if status is not None:
        item.user_properties[:] = [p for p in item.user_properties if p[0] != STATUS_PROPERTY]
        item.user_properties.append((STATUS_PROPERTY, status.value))
        report.user_properties = list(item.user_properties)
    return report


# --- fixtures -----------------------------------------------------------------


@pytest.fixture
def privacy_adapter() -> Any:
    """Placeholder: the user's suite must define its own ``privacy_adapter``."""
    from .contract import missing_fixture_message

    pytest.fail(missing_fixture_message(), pytrace=False)


@pytest.fixture
def person_factory() -> Any:
    """The factory-boy ``PersonFactory``: ``person_factory()``, ``person_factory(age=12)``."""
    from .factories import PersonFactory

    return PersonFactory


@pytest.fixture(scope="session")
def processor_sink() -> Generator[ProcessorSink, None, None]:
    """A loopback HTTP server recording every request the module's providers receive."""
    from .processor_sink import ProcessorSink

    sink = ProcessorSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def privacy_harness(
    request: pytest.FixtureRequest, privacy_adapter: object, processor_sink: ProcessorSink
) -> Generator[PrivacyHarness, None, None]:
    """The validated adapter with its stores opened; what every suite check receives."""
    from .errors import PrivacyPluginError
    from .harness import PrivacyHarness

    clause, needs = privacy_marker(request.node) or (None, ())
    try:
        harness = PrivacyHarness.open(
            privacy_adapter,
            processor_sink,
            request.config.stash[SETTINGS_KEY],
            request.node.nodeid,
            clause,
            needs,
        )
    except PrivacyPluginError as exc:
        pytest.fail(f"{type(exc).__name__}: {exc}", pytrace=False)
    yield harness
    harness.close()


@pytest.fixture
def residue_scanner(privacy_harness: PrivacyHarness) -> ResidueScanner:
    """Scanner over every store of ``privacy_adapter``: ``residue_scanner.scan([person])``."""
    return privacy_harness.scanner
