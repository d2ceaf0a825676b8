"""Screenshots for a person to look at: desktop and phone, light and dark — the room (with
where unread messages start, a mention, reactions, a reply, a bot, and the sidebar's
badges and direct messages), `@` in the composer, a reply being written, the reaction
picker, search results and the room opened at one, the mentions list, the direct-message
dialog, an announcement, invitations, its settings, the account dialog and its devices,
the welcome, signing up on an invite-only or closed server, and the page while offline.

Written to test-output/screenshots/ (not committed).
"""

from __future__ import annotations

import json
import re

from playwright.async_api import Browser, Page, expect
from websockets.asyncio.client import connect

from tests.browser.support import (
    BROWSER_TESTS,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    Person,
    RestartableServer,
    expect_connected,
    log_in,
    message,
    person,
    send,
    settle,
    unlabelled_controls,
)

pytestmark = BROWSER_TESTS


async def test_screenshots_of_the_room_view(browser: Browser, server: RestartableServer) -> None:
    url = server.http_url
    ada = await person(url, "ada", "Ada Lovelace")
    grace = await person(url, "grace", "Grace Hopper")
    linus = await person(url, "linus", "Linus")
    margaret = await person(url, "margaret", "Margaret Hamilton")
    room = await ada.create_room(
        "design-team", description="Pixels, type and the occasional argument about rounded corners"
    )
    general = await ada.create_room("general")
    launch = await ada.create_room("launch-plans", private=True)
    await grace.create_room("infra", description="Servers, deploys and the pager")
    troll = await person(url, "troll", "Under the Bridge")
    for someone in (grace, linus, margaret, troll):
        await someone.join(room)
    await ada.call("POST", f"/api/rooms/{room['id']}/bans", json={"user_id": troll.id})
    await server.make_admin(ada.id)  # so her sidebar has the server's invitations
    made = await ada.call("POST", "/api/admin/bots", json={"username": "ci-bot", "display_name": "CI"})
    bot = Person(url, "ci-bot", "CI", token=made["token"], id=made["user"]["id"])
    await bot.join(room)
    [morning] = await ada.say(
        room, "Morning all! I pushed the new sidebar styles — have a look when you get a minute."
    )
    await grace.say(
        room,
        "Looks great. The spacing in the room list feels much calmer.",
        "One thing: the unread dot is a little small on my phone.",
    )
    for someone, emoji in ((grace, "🎉"), (linus, "🎉"), (margaret, "👀"), (ada, "🎉")):
        await someone.call("PUT", f"/api/rooms/{room['id']}/messages/{morning['seq']}/reactions/{emoji}")
    await linus.say(room, "Agreed on the dot. Also, <b>this</b> should stay plain text 🙂")
    [dot] = await ada.say(room, "Good catch, bumping it to 8px.\nThe typing indicator bounces now, too.")
    await bot.say(room, "Build 1289 passed: 412 tests, 0 failures (3 min 12 s)")
    await margaret.call(
        "POST",
        f"/api/rooms/{room['id']}/messages",
        json={
            "body": "8px reads much better, thanks! Mockups: https://example.com/mockups/settings",
            "reply_to": dot["seq"],
        },
    )
    [edited] = await grace.say(room, "Can we ship this on Thursdy?")
    await grace.edit(room, edited["seq"], "Can we ship this on Thursday?")
    [works] = await ada.say(room, "Thursday works. I'll write the release notes.")
    for someone, emoji in ((grace, "👍"), (margaret, "👍"), (ada, "👍"), (linus, "🙏"), (grace, "🚀")):
        await someone.call("PUT", f"/api/rooms/{room['id']}/messages/{works['seq']}/reactions/{emoji}")
    # What Ada has not read yet: here, and in her other rooms (counts, and a mention).
    await margaret.say(room, "@ada the release notes template is in the wiki.")
    await linus.say(room, "I can proofread them.")
    for someone in (grace, linus):
        await someone.join(general)
    await grace.say(general, "Lunch at noon?", "The usual place.")
    await linus.say(general, "@ada are you coming?")
    await ada.call("POST", f"/api/rooms/{launch['id']}/members", json={"username": "grace"})
    await grace.say(launch, "Draft timeline is up.")
    await ada.call("POST", "/api/direct", json={"username": "grace"})
    [dm] = [e["room"] for e in await grace.call("GET", "/api/me/rooms") if e["room"]["kind"] == "direct"]
    await grace.say(dm, "Do you have a minute for the release checklist?")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await page.goto(url + "/")
    await page.screenshot(path=SCREENSHOTS / "login-desktop-light.png")
    assert await unlabelled_controls(page) == []
    await log_in(page, url, "ada", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    await expect(message(page, "Thursday works. I'll write the release notes.")).to_be_visible()
    await expect(page.locator("#new-messages")).to_be_visible()
    await expect(page.locator('.room-link[data-mentions="1"]')).to_have_text(re.compile("general"))

    # Grace is online and typing, as she would be.
    ws_url = f"ws://127.0.0.1:{server.port}/ws/rooms/{room['id']}?token={grace.token}"
    async with connect(ws_url) as grace_socket:  # a room socket: clients other than the page use them
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

        # `@` in the composer offers the room's members.
        composer = page.locator("#composer textarea")
        for scheme, viewport, name in (
            ("light", DESKTOP, "mention-desktop-light"),
            ("dark", PHONE, "mention-phone-dark"),
        ):
            await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            await page.set_viewport_size(viewport)  # type: ignore[arg-type]
            await composer.fill("")
            await composer.press_sequentially("Thanks @")
            await composer.press("ArrowDown")
            await expect(page.get_by_role("listbox", name="People to mention")).to_be_visible()
            assert await unlabelled_controls(page) == []
            await settle(page)
            await page.screenshot(path=SCREENSHOTS / f"{name}.png")
        await composer.press("Escape")
        await composer.fill("")

        # A reply being written, and the reaction picker.
        thanks = message(page, "Thursday works. I'll write the release notes.")
        await page.emulate_media(color_scheme="light")
        await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        await thanks.focus()
        await page.keyboard.press("r")
        await expect(page.locator(".composer-reply")).to_be_visible()
        await composer.fill("Send me the draft when it's ready")
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "reply-phone-light.png")
        await composer.fill("")
        await composer.press("Escape")
        for scheme, viewport, name in (
            ("light", DESKTOP, "react-desktop-light"),
            ("dark", PHONE, "react-phone-dark"),
        ):
            await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            await page.set_viewport_size(viewport)  # type: ignore[arg-type]
            await thanks.focus()
            await page.keyboard.press("+")
            picker = page.get_by_role("dialog", name="Add a reaction")
            await expect(picker).to_be_visible()
            assert await unlabelled_controls(page) == []
            await settle(page)
            await page.screenshot(path=SCREENSHOTS / f"{name}.png")
            await page.keyboard.press("Escape")
            await expect(picker).to_have_count(0)

        # Searching: the results, and the room opened at one, highlighted.
        for scheme, viewport, name in (
            ("light", DESKTOP, "search-desktop-light"),
            ("dark", PHONE, "search-phone-dark"),
        ):
            await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            await page.set_viewport_size(viewport)  # type: ignore[arg-type]
            await page.locator("#search-button").click()
            search = page.get_by_role("dialog", name="Search messages")
            await search.get_by_role("searchbox").fill("the rel")
            await expect(search.locator("a.result")).to_have_count(3)
            assert await unlabelled_controls(page) == []
            await settle(page)
            await page.screenshot(path=SCREENSHOTS / f"{name}.png")
            if viewport == PHONE:
                await search.locator("a.result").last.click()
                await expect(page.locator(".msg.highlight")).to_be_in_viewport()
                await settle(page)
                await page.screenshot(path=SCREENSHOTS / "search-result-phone-dark.png")
            else:
                await page.keyboard.press("Escape")

        # Starting a direct conversation.
        for scheme, viewport, name in (
            ("dark", DESKTOP, "direct-desktop-dark"),
            ("light", PHONE, "direct-phone-light"),
        ):
            await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            await page.set_viewport_size(viewport)  # type: ignore[arg-type]
            if viewport == PHONE:
                await page.get_by_role("button", name="Rooms", exact=True).click()
            await page.get_by_role("button", name="New direct message").click()
            direct = page.get_by_role("dialog", name="New direct message")
            await direct.get_by_label("Username").fill("nobody-here")
            await direct.get_by_label("Username").press("Enter")
            await expect(direct.locator(".field-error")).to_have_text(re.compile("Nobody has that username"))
            assert await unlabelled_controls(page) == []
            await settle(page)
            await page.screenshot(path=SCREENSHOTS / f"{name}.png")
            await page.keyboard.press("Escape")
            await page.keyboard.press("Escape")  # the phone's drawer, if open

        # An announcement, above the room until dismissed.
        await ada.call(
            "POST",
            "/api/admin/announcements",
            json={"body": "Hubbub restarts at 18:00 for an upgrade: about a minute without messages."},
        )
        await page.emulate_media(color_scheme="dark")
        await page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
        await expect(page.get_by_role("region", name="Announcements")).to_be_visible()
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "announcement-desktop-dark.png")
        await page.get_by_role("button", name=re.compile("^Dismiss the announcement")).click()

        # The mentions list, and invitations (a site admin's).
        await page.emulate_media(color_scheme="light")
        await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        await page.get_by_role("button", name="Rooms", exact=True).click()
        await page.get_by_role("button", name="Mentions").click()
        mentions = page.get_by_role("dialog", name="Mentions")
        await expect(mentions.locator("a.result")).to_have_count(2)
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "mentions-phone-light.png")
        await page.keyboard.press("Escape")
        await page.keyboard.press("Escape")
        await ada.call("POST", "/api/admin/invites", json={"uses": 5, "expires_days": 14})
        for scheme, viewport, name in (
            ("light", DESKTOP, "invites-desktop-light"),
            ("dark", PHONE, "invites-phone-dark"),
        ):
            await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            await page.set_viewport_size(viewport)  # type: ignore[arg-type]
            if viewport == PHONE:
                await page.get_by_role("button", name="Rooms", exact=True).click()
            await page.get_by_role("button", name="Invitations").click()
            invites = page.get_by_role("dialog", name="Invitations")
            await expect(invites.locator(".invite-item")).to_have_count(1)
            assert await unlabelled_controls(page) == []
            await settle(page)
            await page.screenshot(path=SCREENSHOTS / f"{name}.png")
            await page.keyboard.press("Escape")
            await page.keyboard.press("Escape")
        await page.goto(f"{url}/#/rooms/{room['id']}")
        await expect_connected(page)

        await page.get_by_role("button", name="Members").click()
        await expect(page.locator("#members")).to_be_in_viewport()
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "members-phone-dark.png")
        grace_row = page.locator('.member[data-username="grace"]')
        await grace_row.get_by_label("Manage Grace Hopper").click()
        await expect(grace_row.get_by_role("button", name="Ban from room")).to_be_visible()
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "member-menu-phone-dark.png")
        await grace_row.get_by_label("Manage Grace Hopper").click()
        await page.keyboard.press("Escape")
        await page.emulate_media(color_scheme="light")
        await page.get_by_role("button", name="Rooms", exact=True).click()
        await expect(page.locator("#sidebar")).to_be_in_viewport()
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "rooms-phone-light.png")
        await page.keyboard.press("Escape")

        # The room's settings, as its owner sees them (with a ban), and deleting it.
        for scheme, viewport, name in (
            ("light", DESKTOP, "settings-desktop-light"),
            ("dark", DESKTOP, "settings-desktop-dark"),
            ("light", PHONE, "settings-phone-light"),
        ):
            await dialog_shot(
                page, name, scheme, viewport, "Room settings", expect_text="Banned by Ada Lovelace"
            )
        await page.get_by_role("button", name="Room settings").click()
        await (
            page.get_by_role("dialog", name="Room settings")
            .get_by_role("button", name="Delete room…")
            .click()
        )
        confirm = page.get_by_role("dialog", name="Delete #design-team?")
        await confirm.get_by_label("Type design-team to confirm").fill("design")
        await page.emulate_media(color_scheme="dark")
        await settle(page)
        assert await unlabelled_controls(page) == []
        await page.screenshot(path=SCREENSHOTS / "delete-phone-dark.png")
        await page.keyboard.press("Escape")
        await page.keyboard.press("Escape")

        # The account dialog, and its devices.
        await dialog_shot(page, "account-desktop-dark", "dark", DESKTOP, "Your account")
        await dialog_shot(page, "account-phone-light", "light", PHONE, "Your account")
        await page.emulate_media(color_scheme="light")
        await page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
        await page.get_by_role("button", name="Your account").click()
        devices = page.locator("#sessions .device")
        await expect(devices).to_have_count(2)
        await devices.last.scroll_into_view_if_needed()
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "devices-desktop-light.png")
        await page.emulate_media(color_scheme="dark")
        await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        await devices.last.scroll_into_view_if_needed()
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "devices-phone-dark.png")
        await page.keyboard.press("Escape")

        # Offline: pending messages wait, presence is unknown, the composer still works.
        await page.emulate_media(color_scheme="light")
        await page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
        await context.set_offline(True)
        await expect(page.locator("#connection")).to_have_attribute("data-connection-state", "offline")
        await send(page, "Written on the train, sent when we're back")
        await expect(page.locator(".msg-status.waiting")).to_have_text("Waiting for connection")
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "offline-desktop-light.png")
        await page.emulate_media(color_scheme="dark")
        await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        await page.locator("#members-toggle").click()
        await expect(page.locator("#presence-unknown")).to_be_in_viewport()
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / "offline-members-phone-dark.png")
        await page.keyboard.press("Escape")
        await context.set_offline(False)
        await expect_connected(page)
    await context.close()

    # Someone arriving without a room of their own: the welcome, and browsing rooms.
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await log_in(page, url, "linus")
    await expect(page.get_by_role("heading", name="Welcome, Linus")).to_be_visible()
    assert await unlabelled_controls(page) == []
    await settle(page)
    await page.screenshot(path=SCREENSHOTS / "welcome-desktop-light.png")
    await page.emulate_media(color_scheme="dark")
    await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await settle(page)
    await page.screenshot(path=SCREENSHOTS / "welcome-phone-dark.png")
    await page.emulate_media(color_scheme="light")
    await page.get_by_role("button", name="Browse rooms").click()
    await expect(page.get_by_role("dialog", name="Browse rooms").get_by_role("link")).to_have_count(3)
    assert await unlabelled_controls(page) == []
    await settle(page)
    await page.screenshot(path=SCREENSHOTS / "browse-phone-light.png")
    await context.close()

    # Signing up where an invitation is needed (from its link), and where nobody may.
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    for mode, scheme, viewport, name in (
        ("invite", "dark", PHONE, "signup-invite-phone-dark"),
        ("closed", "light", DESKTOP, "signup-closed-desktop-light"),
    ):
        other = RestartableServer(server.settings.model_copy(update={"signup": mode}))
        await other.start()
        try:
            await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            await page.set_viewport_size(viewport)  # type: ignore[arg-type]
            await page.goto(f"{other.http_url}/#invite=Xk2_d9ZpQv7LmN4sT1wYb8cR3eHa0uJf")
            panel = page.get_by_role("tabpanel", name="Create account")
            await expect(
                panel.get_by_label("Invite code")
                if mode == "invite"
                else panel.get_by_text("Sign-up is closed")
            ).to_be_visible()
            assert await unlabelled_controls(page) == []
            await settle(page)
            await page.screenshot(path=SCREENSHOTS / f"{name}.png")
        finally:
            await other.stop()
    await context.close()


async def dialog_shot(
    page: Page, name: str, scheme: str, viewport: dict[str, int], title: str, expect_text: str = ""
) -> None:
    """Open the dialog `title` (by its button), check its labels, photograph it, close it."""
    await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    await page.set_viewport_size(viewport)  # type: ignore[arg-type]
    button = "Room settings" if title == "Room settings" else "Your account"
    if viewport == PHONE and button == "Your account":
        await page.get_by_role("button", name="Rooms", exact=True).click()
    await page.get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog", name=title)
    if expect_text:
        await expect(dialog.get_by_text(expect_text)).to_be_visible()
    assert await unlabelled_controls(page) == []
    await settle(page)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png")
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await page.keyboard.press("Escape")  # the phone's drawer, if open
