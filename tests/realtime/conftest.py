from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.servers import LiveServer


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.http_url) as client:
        yield client
