from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.servers import LiveServer

# The property under which the fault tests (test_faults.py) record what they counted.
FAULT_COUNTS = "fault counts"


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.http_url) as client:
        yield client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What each fault test counted (sent, acknowledged, received, duplicated, lost, how long
    catching up took), in every run's output, passed or not."""
    lines = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", ()):
                if name == FAULT_COUNTS and report.when == "call":
                    counts = ", ".join(f"{key}={item}" for key, item in value.items())
                    lines.append(f"{report.nodeid.rsplit('::', 1)[-1]} ({outcome}): {counts}")
    if lines:
        terminalreporter.section("what the fault tests counted")
        for line in lines:
            terminalreporter.write_line(line)
