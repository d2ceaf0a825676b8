"""The connection comes back by itself after a server restart and after a network loss,
missing nothing and showing nothing twice."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.browser.support import (
    BROWSER_TESTS,
    RestartableServer,
    confirmed_bodies,
    expect_connected,
    log_in,
    message,
    person,
    record_connection_states,
    send,
    shown_seqs,
)

pytestmark = BROWSER_TESTS


async def expect_exactly_once_in_order(page: Page, expected: list[str]) -> None:
    seqs = await shown_seqs(page)
    assert seqs == list(range(1, len(expected) + 1)), "every seq once, in order, none missing"
    assert await confirmed_bodies(page) == expected


async def test_restart_and_network_loss_miss_nothing_and_show_nothing_twice(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    dave = await person(url, "dave", "Dave Grohl")
    erin = await person(url, "erin", "Erin Brockovich")
    room = await dave.create_room("ops")
    await erin.join(room)
    await erin.say(room, "before the restart")

    context = await browser.new_context()
    page = await context.new_page()
    await log_in(page, url, "dave", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    await expect(message(page, "before the restart")).to_be_visible()
    states = await record_connection_states(page)

    # 1. The server restarts (1012) while the page is open: it says so, and comes back.
    await server.stop()
    await expect(page.locator("#connection")).to_have_attribute("data-connection-state", "reconnecting")
    await expect(page.locator("#connection")).to_contain_text("Reconnecting")
    await expect(page.locator(".banner")).to_contain_text("reconnecting")
    await server.start()
    await erin.say(room, "right after the restart 1", "right after the restart 2")
    await expect_connected(page)
    await expect(message(page, "right after the restart 2")).to_be_visible()
    assert "reconnecting" in await states()

    # 2. The network goes away; meanwhile the server restarts again and Erin talks on.
    await context.set_offline(True)
    await expect(page.locator("#connection")).to_have_attribute("data-connection-state", "offline")
    await server.stop()
    await server.start()
    missed = [f"while you were away {n}" for n in range(1, 4)]
    await erin.say(room, *missed)
    # Dave writes while offline: shown at once, pending.
    await send(page, "typed while offline")
    pending = page.locator('#messages .msg[data-state="pending"]')
    await expect(pending).to_have_count(1)
    await expect(pending.locator(".msg-text")).to_have_text("typed while offline")
    await context.set_offline(False)
    await expect_connected(page)
    await expect(message(page, "typed while offline")).to_be_visible()
    await expect(pending).to_have_count(0)

    await erin.say(room, "after everything")
    await expect(message(page, "after everything")).to_be_visible()
    await expect_exactly_once_in_order(
        page,
        [
            "before the restart",
            "right after the restart 1",
            "right after the restart 2",
            *missed,
            "typed while offline",
            "after everything",
        ],
    )
    await context.close()
