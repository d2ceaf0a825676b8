"""History on entry and on reload; older messages page in as the reader scrolls up."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.support import (
    BROWSER_TESTS,
    RestartableServer,
    confirmed_bodies,
    expect_connected,
    log_in,
    message,
    person,
    shown_seqs,
)

pytestmark = BROWSER_TESTS

SEEDED = 120


async def test_reload_shows_history_and_scrolling_up_loads_older(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    carol = await person(url, "carol", "Carol Danvers")
    room = await carol.create_room("archive", description="Everything ever said")
    expected = [f"Message number {n:03d}" for n in range(1, SEEDED + 1)]
    await carol.say(room, *expected)

    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await log_in(page, url, "carol", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    await expect(message(page, expected[-1])).to_be_visible()
    # The history frame: the newest 50.
    assert await shown_seqs(page) == list(range(SEEDED - 49, SEEDED + 1))

    # A reload keeps me signed in, in the same room, with the history shown again.
    await page.reload()
    await expect_connected(page)
    await expect(message(page, expected[-1])).to_be_visible()
    assert await confirmed_bodies(page) == expected[-50:]

    # Scrolling to the top pages older messages in over HTTP, until the very first.
    timeline = page.locator("#timeline")
    for oldest in (SEEDED - 99, 1):
        await timeline.evaluate("el => { el.scrollTop = 0; }")
        await expect(message(page, expected[oldest - 1])).to_be_attached()
    await expect(page.get_by_role("heading", name="Welcome to #archive")).to_be_visible()
    assert await shown_seqs(page) == list(range(1, SEEDED + 1))
    assert await confirmed_bodies(page) == expected
    # Reading older messages kept the reader's place: the newest are below, out of view.
    await expect(message(page, expected[-1])).not_to_be_in_viewport()
    await context.close()
