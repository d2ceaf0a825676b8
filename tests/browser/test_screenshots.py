"""Screenshots of the room view for a person to look at: desktop and phone, light and dark.

Written to test-output/screenshots/ (not committed).
"""

from __future__ import annotations

import json

from playwright.async_api import Browser, Page, expect
from websockets.asyncio.client import connect

from tests.browser.support import (
    BROWSER_TESTS,
    RestartableServer,
    expect_connected,
    log_in,
    message,
    person,
    unlabelled_controls,
)
from tests.servers import ROOT

pytestmark = BROWSER_TESTS

SCREENSHOTS = ROOT / "test-output" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def test_screenshots_of_the_room_view(browser: Browser, server: RestartableServer) -> None:
    url = server.http_url
    ada = await person(url, "ada", "Ada Lovelace")
    grace = await person(url, "grace", "Grace Hopper")
    linus = await person(url, "linus", "Linus")
    margaret = await person(url, "margaret", "Margaret Hamilton")
    room = await ada.create_room(
        "design-team", description="Pixels, type and the occasional argument about rounded corners"
    )
    await ada.create_room("general")
    await ada.create_room("launch-plans", private=True)
    await grace.create_room("infra")
    for someone in (grace, linus, margaret):
        await someone.join(room)
    await ada.say(room, "Morning all! I pushed the new sidebar styles — have a look when you get a minute.")
    await grace.say(
        room,
        "Looks great. The spacing in the room list feels much calmer.",
        "One thing: the unread dot is a little small on my phone.",
    )
    await linus.say(room, "Agreed on the dot. Also, <b>this</b> should stay plain text 🙂")
    await ada.say(room, "Good catch, bumping it to 8px.\nThe typing indicator bounces now, too.")
    await margaret.say(room, "Mockups for the settings page: https://example.com/mockups/settings")
    [edited] = await grace.say(room, "Can we ship this on Thursdy?")
    await grace.edit(room, edited["seq"], "Can we ship this on Thursday?")
    await ada.say(room, "Thursday works. I'll write the release notes.")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await page.goto(url + "/")
    await page.screenshot(path=SCREENSHOTS / "login-desktop-light.png")
    assert await unlabelled_controls(page) == []
    await log_in(page, url, "ada", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    await expect(message(page, "Thursday works. I'll write the release notes.")).to_be_visible()

    # Grace is online and typing, as she would be.
    ws_url = f"ws://127.0.0.1:{server.port}/ws/rooms/{room['id']}?token={grace.token}"
    async with connect(ws_url) as grace_socket:
        assert json.loads(await grace_socket.recv())["type"] == "history"
        await expect(page.locator('.member.online[data-username="grace"]')).to_be_visible()

        async def shoot(name: str, scheme: str, viewport: dict[str, int]) -> None:
            await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            await page.set_viewport_size(viewport)  # type: ignore[arg-type]
            await grace_socket.send(json.dumps({"type": "typing"}))
            await expect(page.locator("#typing")).to_have_text("Grace Hopper is typing…")
            await settle(page)
            path = SCREENSHOTS / f"{name}.png"
            await page.screenshot(path=path)
            assert path.stat().st_size > 10_000

        await page.locator("#composer textarea").focus()
        assert await unlabelled_controls(page) == []
        await shoot("room-desktop-light", "light", DESKTOP)
        await shoot("room-desktop-dark", "dark", DESKTOP)
        await shoot("room-phone-light", "light", PHONE)
        await shoot("room-phone-dark", "dark", PHONE)

        await page.get_by_role("button", name="Members").click()
        await expect(page.locator("#members")).to_be_in_viewport()
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "members-phone-dark.png")
        await page.keyboard.press("Escape")
        await page.emulate_media(color_scheme="light")
        await page.get_by_role("button", name="Rooms").click()
        await expect(page.locator("#sidebar")).to_be_in_viewport()
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "rooms-phone-light.png")
    await context.close()


async def settle(page: Page) -> None:
    """Let transitions finish and the mouse leave any message."""
    await page.mouse.move(0, 0)
    await page.wait_for_timeout(350)
