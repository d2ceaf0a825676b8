"""Access tokens are refreshed before they expire, the refresh token rotated, and the
fresh token swapped into the open socket: the connection never drops."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from api.config import Settings
from tests.browser.support import (
    BROWSER_TESTS,
    RestartableServer,
    expect_connected,
    log_in,
    message,
    person,
    record_connection_states,
    send,
)
from tests.conftest import make_settings

pytestmark = BROWSER_TESTS

LIFETIME_SECONDS = 3


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, access_token_minutes=LIFETIME_SECONDS / 60)


async def session_tokens(page: object) -> dict[str, str]:
    tokens: dict[str, str] = await page.evaluate(  # type: ignore[attr-defined]
        "JSON.parse(localStorage.getItem('hubbub.session')).tokens"
    )
    return tokens


async def test_tokens_are_refreshed_and_swapped_into_the_open_socket(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    fay = await person(url, "fay", "Fay Wray")
    gus = await person(url, "gus", "Gus Grissom")
    room = await fay.create_room("night-shift")
    await gus.join(room)

    context = await browser.new_context()
    page = await context.new_page()
    await log_in(page, url, "fay", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    states = await record_connection_states(page)
    first = await session_tokens(page)

    # Two lifetimes of the first access token go by: the server would close a socket
    # still holding it (4401 token_expired), but the page swapped fresh ones in.
    await page.wait_for_timeout(LIFETIME_SECONDS * 2 * 1000 + 1000)
    now = await session_tokens(page)
    assert now["refresh"] != first["refresh"], "the refresh token was rotated"
    assert now["access"] != first["access"]
    await send(page, "still here")
    await expect(message(page, "still here")).to_be_visible()
    await gus.log_in()
    await gus.say(room, "me too")
    await expect(message(page, "me too")).to_be_visible()
    assert await states() == [], "the connection never dropped"
    await context.close()
