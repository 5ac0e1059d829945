"""Fixtures shared by every test module, and the rule that nothing is skipped.

Every test runs everywhere, CI included: a test that cannot run must fail and say why. So a
skip (``pytest.skip``, ``skipif``, ``importorskip``) fails the whole run, naming the test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dapr_actors_fastapi import ActorRuntime

if TYPE_CHECKING:
    from .helpers import Mount


@pytest.fixture
def runtime() -> ActorRuntime:
    return ActorRuntime()


@pytest.fixture(scope="session", params=["router", "front door"])
def mount(request: pytest.FixtureRequest) -> Mount:
    """Builds the app for a runtime, once with ``include_router`` and once behind the front
    door: a test that takes it holds both to the same checks. (Session-scoped, as it is a
    plain function, so that property-based tests may take it.)"""
    # Imported here: tests/test_suite_rules.py runs this file alone, outside the package.
    from .helpers import MOUNTS

    return MOUNTS[request.param]


class SkipsFailTheRun:
    """Collects skipped tests, lists them loudly and turns a passing run into a failed one."""

    def __init__(self) -> None:
        self.skipped: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
            self.skipped.append(f"{report.nodeid}: {reason}")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.skipped:
            terminalreporter.section("skipped tests fail this run", red=True, bold=True)
            for line in self.skipped:
                terminalreporter.write_line(line, red=True)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.skipped and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipsFailTheRun(), "skips-fail-the-run")
