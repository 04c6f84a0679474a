"""pytest hooks and fixtures of pytest-stexcel-privacy (entry point ``pytest11``).

Only hooks and fixtures live here; each delegates to a module named for what
it does. Heavy imports (hypothesis, SQLAlchemy, Faker) happen inside fixtures,
so loading the plugin costs nothing to a run that selects no privacy test.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from .checks.worker_cores import CORES_INPUT, held, share_for_worker, usable_cores
from .clauses import CLAUSES
from .clauses import clause as lookup_clause
from .findings.masking import Masking, masking
from .findings.outcomes import has_violation
from .harness.recording import CLAUSE_PROPERTY, record_phase, redact_report
from .observe import quiescence  # noqa: F401  (imported first: its baseline of threads)
from .options import load_baseline, load_settings
from .report.collector import ReportCollector
from .report.failure_text import SHOWN_KEY, failure_text, wants_internals
from .report.interruption import stop_on_sigterm
from .settings import PrivacySettings, clause_selected

if TYPE_CHECKING:
    from .harness.holder import PrivacyHarness
    from .observe.egress import EgressGuard
    from .observe.mail_sink import MailSink
    from .observe.processor_sink import ProcessorSink
    from .scan import ResidueScanner

SETTINGS_KEY = pytest.StashKey[PrivacySettings]()
MASKING_KEY = pytest.StashKey[Masking]()
MARKER = "privacy"
CHECK_ERROR_ATTRIBUTE = "privacy_check_error"
DIST_INPUT = "stexcel_privacy_dist"  # the controller's --dist, handed to each xdist worker
BAD_MARKER_KEY = pytest.StashKey[str]()  # why an xdist worker's test has a bad privacy marker
SHARE_KEY = pytest.StashKey[list[int]]()  # the cores an xdist worker's checks keep to


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "stexcel-privacy",
        "Stexcel privacy policy checks (how hard they search: "
        "--hypothesis-profile=privacy-dev, privacy-ci (the default) or privacy-deep)",
    )

    def option(flag: str, ini: str, help: str, default: str | None, **kwargs: Any) -> None:
        group.addoption(flag, default=None, help=f"{help} (ini: {ini})", **kwargs)
        if kwargs.get("action") == "store_true":
            parser.addini(ini, help, type="bool", default=False)
        else:
            parser.addini(ini, help, default=default)

    option(
        "--privacy-max-examples",
        "privacy_max_examples",
        "hypothesis examples per property check, default: the hypothesis profile's "
        "(privacy-ci: 20)",
        "",
        metavar="N",
    )
    option(
        "--privacy-shrink-seconds",
        "privacy_shrink_seconds",
        "seconds to spend shrinking a failing example, 0 to report it unshrunk, default 30",
        "30",
        metavar="S",
    )
    option(
        "--privacy-processor-timeout",
        "privacy_processor_timeout",
        "seconds to wait for a provider's deletion request, default 2",
        "2",
        metavar="S",
    )
    option(
        "--privacy-call-timeout",
        "privacy_call_timeout",
        "seconds an adapter call may take before the check errors, default 30",
        "30",
        metavar="S",
    )
    option(
        "--privacy-mail-settle",
        "privacy_mail_settle",
        "seconds without new mail after which a step's mail is taken as complete, "
        "default 0.02 (raise it for modules that send from a background queue)",
        "0.02",
        metavar="S",
    )
    option(
        "--privacy-clauses",
        "privacy_clauses",
        "run only these clauses' checks: comma-separated ids or patterns, e.g. "
        "'deletion*,children'",
        "",
        metavar="IDS",
    )
    option(
        "--privacy-report",
        "privacy_report",
        "directory to write report.json, report.html and report.md into",
        None,
        metavar="DIR",
    )
    option(
        "--privacy-baseline",
        "privacy_baseline",
        "an earlier report.json: show new, fixed and unchanged findings",
        None,
        metavar="FILE",
    )
    option(
        "--privacy-accept",
        "privacy_accept",
        "TOML file of accepted findings, each with a reason and optional expiry",
        None,
        metavar="FILE",
    )
    option(
        "--privacy-rescan",
        "privacy_rescan",
        "read every store in full at every scan, never reusing a scan of a store proven "
        "unchanged since",
        "false",
        action="store_true",
    )
    option(
        "--privacy-pin-workers",
        "privacy_pin_workers",
        "on (the default): while an xdist worker runs a check, its threads keep to cores "
        "of its own, which spares their hand-offs a wake-up on another core; off: the "
        "scheduler's",
        "on",
        metavar="on|off",
    )
    option(
        "--privacy-unmask",
        "privacy_unmask",
        "show the synthetic persons' values unmasked, for local debugging",
        "false",
        action="store_true",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    profile = config.getoption("hypothesis_profile", None)
    if profile:
        from .profiles import unknown_profile  # registers ours before hypothesis loads one

        problem = unknown_profile(str(profile))
        if problem:
            raise pytest.UsageError(problem)
    config.addinivalue_line(
        "markers",
        f"{MARKER}(clause, *, needs=()): the test checks a clause of the Stexcel privacy "
        f"policy ({', '.join(CLAUSES)}); its outcome counts for that clause",
    )
    settings = load_settings(config)
    config.stash[SETTINGS_KEY] = settings
    config.stash[MASKING_KEY] = Masking(unmask=settings.unmask)
    if not hasattr(config, "workerinput"):  # xdist workers only run checks; the controller reports
        today = date.today()
        collector = ReportCollector(
            settings.report_dir,
            load_baseline(settings),
            settings.expired_acceptances(today),
            settings.hypothesis_seed,
            settings.hypothesis_profile,
            [a for a in settings.acceptances if not a.expired(today)],
        )
        config.pluginmanager.register(collector, "stexcel-privacy-report")
        config.add_cleanup(stop_on_sigterm())


def _marker_arguments(clause: str, *, needs: tuple[str, ...] = ()) -> tuple[str, tuple[str, ...]]:
    return clause, tuple(needs)


def privacy_marker(item: pytest.Item) -> tuple[str, tuple[str, ...]] | None:
    marker = item.get_closest_marker(MARKER)
    if marker is None or BAD_MARKER_KEY in item.stash:
        return None
    try:
        clause, needs = _marker_arguments(*marker.args, **marker.kwargs)
        lookup_clause(clause)
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"{item.nodeid}: bad @pytest.mark.{MARKER}: {exc}") from None
    return clause, needs


@pytest.hookimpl(trylast=True)  # after -k, -m and --deselect: an xdist worker orders what runs
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = config.stash[SETTINGS_KEY].clauses
    kept, dropped = [], []
    for item in items:
        try:
            found = privacy_marker(item)
        except pytest.UsageError as exc:
            if not hasattr(config, "workerinput"):
                raise
            # Raised in an xdist worker, it reaches the user as xdist's INTERNALERROR
            # without its message; the test errors with it instead (pytest_runtest_setup).
            item.stash[BAD_MARKER_KEY] = str(exc)
            found = None
        if found:
            item.user_properties.append((CLAUSE_PROPERTY, found[0]))
        if found and wanted and not clause_selected(found[0], wanted):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    if hasattr(config, "workerinput"):  # an xdist worker: every worker sorts alike
        from .checks.worker_order import lanes_for_worksteal, long_checks_first

        if config.workerinput.get(DIST_INPUT) == "worksteal":
            lanes_for_worksteal(items, int(config.workerinput.get("workercount", 1)))
        else:
            long_checks_first(items)
        if config.stash[SETTINGS_KEY].pin_workers:
            config.stash[SHARE_KEY] = share_for_worker(config.workerinput)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if BAD_MARKER_KEY in item.stash:
        pytest.fail(item.stash[BAD_MARKER_KEY], pytrace=False)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist's controller, for each worker: how it shares out the tests (a worker's own
    ``--dist`` reads "no"), so the worker can order its collection for it."""
    node.workerinput[DIST_INPUT] = getattr(node.config.option, "dist", None)
    node.workerinput[CORES_INPUT] = usable_cores()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Values in a test's evidence are masked as the run asked, from setup to teardown;
    on an xdist worker a check's threads keep to the worker's cores meanwhile."""
    share = item.config.stash.get(SHARE_KEY, []) if privacy_marker(item) else []
    with masking(item.config.stash[MASKING_KEY]), held(share):
        return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Outermost, so it redacts what every other plugin (hypothesis too) put in the report."""
    report = yield
    found = privacy_marker(item)
    if found is not None:
        record_phase(item, found[0], call, report)
        error = call.excinfo.value if call.excinfo else None
        if call.when == "call" and report.failed and not (error and has_violation(error)):
            setattr(report, CHECK_ERROR_ATTRIBUTE, True)  # survives xdist's serialisation
        if report.failed and error is not None and not wants_internals(item.config):
            shown = item.config.stash.setdefault(SHOWN_KEY, {})
            report.longrepr = failure_text(report, error, shown) or report.longrepr  # type: ignore[assignment]
    redact_report(report)
    return report


def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    """A check that could not reach a verdict is an error to pytest too, as in the
    clause table: "1 error", not "1 failed" (the exit code is 1 either way)."""
    if report.when == "call" and getattr(report, CHECK_ERROR_ATTRIBUTE, False):
        return "error", "E", ("ERROR", {"red": True})
    return None


# --- fixtures -----------------------------------------------------------------


@pytest.fixture
def privacy_adapter() -> Any:
    """Placeholder: the user's suite must define its own ``privacy_adapter``."""
    from .contract.checked import missing_fixture_message

    pytest.fail(missing_fixture_message(), pytrace=False)


@pytest.fixture
def person_factory() -> Any:
    """The factory-boy ``PersonFactory``: ``person_factory()``, ``person_factory(age=12)``."""
    from .people.factories import PersonFactory

    return PersonFactory


@pytest.fixture(scope="session")
def processor_sink() -> Generator[ProcessorSink, None, None]:
    """A loopback HTTP server recording every request the module's providers receive."""
    from .observe.processor_sink import ProcessorSink

    sink = ProcessorSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def mail_sink() -> Generator[MailSink, None, None]:
    """A real SMTP server on loopback keeping every message: ``mail_sink.address``."""
    from .observe.mail_sink import MailSink

    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def s3_server() -> Generator[str, None, None]:
    """An S3 server (moto's server mode) on loopback; yields its endpoint URL."""
    from .observe.s3_server import running_s3_server

    with running_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def egress_guard() -> Generator[EgressGuard, None, None]:
    """Records, then refuses, every way out of this machine the module tries, and notes
    what it cannot see (README: "What the egress guard sees")."""
    from .observe.egress import EgressGuard

    guard = EgressGuard().start()
    yield guard
    guard.stop()


@pytest.fixture
def privacy_harness(
    request: pytest.FixtureRequest,
    privacy_adapter: object,
    processor_sink: ProcessorSink,
    egress_guard: EgressGuard,
) -> Generator[PrivacyHarness, None, None]:
    """The validated adapter with its stores opened; what every suite check receives.

    The persons the check mints are seeded here, per check, from the run's seed.
    """
    from .errors import PrivacyPluginError
    from .harness.holder import PrivacyHarness
    from .people.persons import reseed_for

    settings = request.config.stash[SETTINGS_KEY]
    reseed_for(request.node.nodeid, settings.hypothesis_seed)
    clause, needs = privacy_marker(request.node) or (None, ())
    try:
        harness = PrivacyHarness.open(
            privacy_adapter,
            processor_sink,
            egress_guard,
            settings,
            request.node.nodeid,
            clause,
            needs,
        )
    except PrivacyPluginError as exc:
        pytest.fail(f"{type(exc).__name__}: {exc}", pytrace=False)
    from .harness.hypothesis_internals import recording_seeds

    with recording_seeds(harness.statistics.hypothesis_seeds):
        yield harness
    harness.close()


@pytest.fixture
def residue_scanner(privacy_harness: PrivacyHarness) -> ResidueScanner:
    """Scanner over every store of ``privacy_adapter``: ``residue_scanner.scan([person])``."""
    return privacy_harness.scanner
