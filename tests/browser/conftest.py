"""Browser fixtures: headless Chromium through Playwright, and a server that can restart.

The browser tests need Debian's Chromium (never `playwright install`). Without it they
skip on a developer's machine and fail in CI (CI=true), where it must be there.

Chromium is launched once per run, so the tests, the browser and the servers they start
share the session's event loop (`BROWSER_TESTS` marks each module so).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

from api.config import Settings
from tests.browser.support import RestartableServer

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM_INSTALLED = CHROMIUM.exists()
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the whole run; each test opens its own contexts (fresh storage)."""
    if not CHROMIUM_INSTALLED:
        message = f"Chromium is not installed at {CHROMIUM}"
        if IN_CI:
            pytest.fail(f"{message}, and CI must run the browser tests", pytrace=False)
        pytest.skip(message)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def server(settings: Settings) -> AsyncIterator[RestartableServer]:
    """A real Uvicorn server in this event loop, which a test may stop and start again."""
    running = RestartableServer(settings)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
