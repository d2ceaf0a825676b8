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
    eventually,
    expect_connected,
    log_in,
    message,
    person,
    record_connection_states,
    send,
)
from tests.conftest import make_settings

pytestmark = BROWSER_TESTS

LIFETIME_SECONDS = 4


# Every close event of every WebSocket the page opens: [code, reason].
RECORD_CLOSES = """
window.__closes = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('close', (event) => window.__closes.push([event.code, event.reason]));
  }
};
"""


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
    await context.add_init_script(RECORD_CLOSES)
    page = await context.new_page()

    async def closes() -> list[list[object]]:
        seen: list[list[object]] = await page.evaluate("window.__closes")
        return seen

    await log_in(page, url, "fay", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    states = await record_connection_states(page)
    first = await session_tokens(page)

    # Two lifetimes of the first access token go by: the server would close a socket
    # still holding it (4401 token_expired), but the page swapped fresh ones in.
    await page.wait_for_timeout(LIFETIME_SECONDS * 2 * 1000)
    now = await session_tokens(page)
    assert now["refresh"] != first["refresh"], "the refresh token was rotated"
    assert now["access"] != first["access"]
    await send(page, "still here")
    await expect(message(page, "still here")).to_be_visible()
    await gus.say(room, "me too")
    await expect(message(page, "me too")).to_be_visible()
    assert await states() == [], "the connection never dropped"

    # A token that runs out unnoticed (think of a laptop asleep): another tab stores a new
    # login with a wrong expiry; the page takes it, swaps it into the socket, and does
    # not refresh it in time, so the server closes the socket (4401 token_expired). The
    # page refreshes the token and reconnects at once.
    await fay.log_in()
    other_tab = await context.new_page()
    await other_tab.goto(url + "/favicon.svg")  # same origin, without the app
    await other_tab.evaluate(
        """([access, refresh]) => {
          const saved = JSON.parse(localStorage.getItem('hubbub.session'));
          saved.tokens = { access, refresh, expiresAt: Date.now() + 3600e3, lifetime: 3600e3 };
          localStorage.setItem('hubbub.session', JSON.stringify(saved));
        }""",
        [fay.token, fay.refresh_token],
    )
    await eventually(closes, lambda seen: [4401, "token_expired"] in seen, timeout=LIFETIME_SECONDS + 5)
    await expect_connected(page)
    await gus.say(room, "welcome back")
    await expect(message(page, "welcome back")).to_be_visible()
    assert "connected" in await states()
    await context.close()
