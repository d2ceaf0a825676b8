"""Unread counts, mentions and read state, live over the one connection: badges count up
in a room that is not open, a mention notifies (when the page is hidden) and is
highlighted, opening a room shows where reading stopped, and reading in one tab clears
the badge in the other. `@` in the composer offers the room's members."""

from __future__ import annotations

import asyncio
import json
import re

from playwright.async_api import Browser, Page, WebSocketRoute, expect

from tests.browser.support import (
    BROWSER_TESTS,
    DESKTOP,
    RestartableServer,
    eventually,
    expect_connected,
    log_in,
    message,
    person,
)

pytestmark = BROWSER_TESTS

# Records every desktop notification the page makes, and lets the test hide the page
# (a headless browser's pages are always visible).
HOOKS = """
window.__notifications = [];
const NativeNotification = window.Notification;
window.Notification = class extends NativeNotification {
  constructor(title, options = {}) {
    window.__notifications.push({ title, body: options.body, tag: options.tag });
    super(title, options);
  }
};
window.__asked = 0;
const askNatively = NativeNotification.requestPermission.bind(NativeNotification);
window.Notification.requestPermission = (...args) => {
  window.__asked += 1;
  return askNatively(...args);
};
let hidden = false;
Object.defineProperty(Document.prototype, 'visibilityState', {
  configurable: true, get: () => (hidden ? 'hidden' : 'visible'),
});
Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
window.__setHidden = (value) => {
  hidden = value;
  document.dispatchEvent(new Event('visibilitychange'));
};
"""


def room_link(page: Page, name: str) -> object:
    return page.locator(".room-link", has_text=name)


async def notifications(page: Page) -> list[dict[str, str]]:
    seen: list[dict[str, str]] = await page.evaluate("window.__notifications")
    return seen


async def test_badges_mentions_notifications_and_reading_across_tabs(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    dave = await person(url, "dave", "Dave Grohl")
    erin = await person(url, "erin", "Erin Brockovich")
    ops = await dave.create_room("ops")
    random = await dave.create_room("random")
    for room in (ops, random):
        await erin.join(room)

    context = await browser.new_context(viewport=DESKTOP)
    await context.grant_permissions(["notifications"], origin=url)
    await context.add_init_script(HOOKS)
    page = await context.new_page()
    await log_in(page, url, "dave")
    other_tab = await context.new_page()
    await other_tab.goto(url + "/")  # the welcome: no room open there
    await expect(other_tab.get_by_role("heading", name="Welcome, Dave Grohl")).to_be_visible()
    await room_link(page, "ops").click()
    await expect_connected(page)
    await expect(room_link(page, "random")).not_to_have_class(re.compile(r"\bunread\b"))

    # Messages in a room that is not open count up live, in both tabs; the room moves to
    # the top, bold, and the document title carries the total.
    await erin.say(random, "one", "two")
    for tab in (page, other_tab):
        await expect(room_link(tab, "random")).to_have_attribute("data-unread", "2")
        await expect(room_link(tab, "random").locator(".badge-unread")).to_have_text("2")
        await expect(room_link(tab, "random")).to_have_class(re.compile(r"\bunread\b"))
        await expect(tab.locator(".room-link").first).to_have_accessible_name(
            "Room random, 2 unread messages"
        )
    await expect(page).to_have_title("(2) #ops · Hubbub")

    # A mention gets a badge of its own. The page is in front: no notification.
    await erin.say(random, "@dave can you look at the pager?")
    await expect(room_link(page, "random").locator(".badge-mention")).to_have_text("@1")
    await expect(room_link(page, "random")).to_have_attribute("data-unread", "3")
    assert await notifications(page) == []

    # Hidden, it notifies: a mention in another room, and one in the open room.
    await page.evaluate("window.__setHidden(true)")
    await erin.say(random, "@Dave. ping")
    await erin.say(ops, "deploy is done, @dave")
    await erin.say(ops, "no mention here")
    seen = await eventually(lambda: notifications(page), lambda n: len(n) >= 2, timeout=10)
    assert {(n["title"], n["body"]) for n in seen} == {
        ("Erin Brockovich mentioned you in #random", "@Dave. ping"),
        ("Erin Brockovich mentioned you in #ops", "deploy is done, @dave"),
    }
    # Unread in the open room while hidden: counted, not read.
    await expect(page).to_have_title("(6) #ops · Hubbub")
    await page.evaluate("window.__setHidden(false)")
    await expect(page).to_have_title("(4) #ops · Hubbub")  # ops is read, now it is seen
    mentioned = message(page, "deploy is done, @dave")
    await expect(mentioned).to_have_class(re.compile(r"\bmentioned\b"))
    await expect(mentioned.locator(".mention-me")).to_have_text("@dave")
    await expect(message(page, "no mention here")).not_to_have_class(re.compile(r"\bmentioned\b"))

    # Opening the room: "New messages" where reading stopped, the mentions highlighted.
    # Reading it here clears the badge in the other tab, live.
    await room_link(page, "random").click()
    await expect_connected(page)
    divider = page.locator("#new-messages")
    await expect(divider).to_be_visible()
    first_unread = page.locator("#new-messages + .msg .msg-text")
    await expect(first_unread).to_have_text("one")
    await expect(page.locator(".msg.mentioned")).to_have_count(2)
    await expect(room_link(other_tab, "random")).to_have_attribute("data-unread", "0")
    await expect(room_link(other_tab, "random").locator(".badge")).to_have_count(0)
    await expect(other_tab).to_have_title("Hubbub")
    await expect(page).to_have_title("#random · Hubbub")
    state = await dave.call("GET", "/api/me/rooms")
    assert {item["room"]["name"]: item["unread"] for item in state} == {"random": 0, "ops": 0}

    # `@` offers the room's members, from the keyboard: the combobox names the option in view.
    composer = page.get_by_role("combobox", name="Message #random")
    await composer.press_sequentially("thanks @Er")
    listbox = page.get_by_role("listbox", name="People to mention")
    await expect(listbox).to_be_visible()
    await expect(composer).to_have_attribute("aria-expanded", "true")
    option = listbox.get_by_role("option", name="Erin Brockovich @erin")
    await expect(option).to_have_attribute("aria-selected", "true")
    assert await composer.get_attribute("aria-activedescendant") == await option.get_attribute("id")
    await composer.press("Enter")  # picks the option, does not send
    await expect(listbox).to_be_hidden()
    await expect(composer).to_have_value("thanks @erin ")
    await composer.press_sequentially("done")
    await composer.press("Enter")
    await expect(message(page, "thanks @erin done")).to_be_visible()
    [sent] = (await erin.call("GET", f"/api/rooms/{random['id']}/messages?limit=1"))["messages"]
    assert sent["mentions"] == [erin.id]
    await composer.press_sequentially("@nobody")
    await expect(listbox).to_be_hidden()
    await context.close()


async def test_direct_rooms_have_their_own_section_named_after_the_other_person(
    browser: Browser, server: RestartableServer
) -> None:
    """Direct rooms come from another part of the server; here their frames are played to
    the page as the SPEC writes them, through the page's own connection."""
    url = server.http_url
    await person(url, "dave", "Dave Grohl")
    context = await browser.new_context(viewport=DESKTOP)
    await context.add_init_script(HOOKS)
    page = await context.new_page()
    sockets: list[WebSocketRoute] = []
    ready = asyncio.Event()

    def route(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        upstream = ws.connect_to_server()

        def from_server(frame: str | bytes) -> None:
            ws.send(frame)
            if json.loads(frame)["type"] == "ready":
                ready.set()  # what is played after it comes after it

        upstream.on_message(from_server)
        ws.on_message(upstream.send)

    await page.route_web_socket(re.compile(r"/ws\?"), route)
    await log_in(page, url, "dave")
    await expect(page.get_by_role("heading", name="No rooms yet")).to_be_visible()
    await asyncio.wait_for(ready.wait(), timeout=10)

    def direct_room(room_id: int, name: str) -> dict[str, object]:
        return {
            "id": room_id,
            "name": name,
            "kind": "direct",
            "description": "",
            "is_private": True,
            "created_at": "2026-11-22T10:00:00Z",
            "member_count": 2,
            "last_seq": 0,
            "last_rev": 0,
        }

    zoe = {"id": 9999, "username": "Zoe", "display_name": "Zoe Saldana"}
    for frame in (
        {"type": "room_added", "room": direct_room(9001, "dave, Zoe"), "role": "member"},
        {"type": "room_added", "room": direct_room(9002, "dave"), "role": "member"},
        {"type": "activity", "room_id": 9001, "seq": 1, "author": zoe, "mention": False},
    ):
        sockets[-1].send(json.dumps(frame))
    section = page.get_by_role("list", name="Direct messages")
    await expect(section.locator(".room-link")).to_have_count(2)
    await expect(section.locator(".room-link").first).to_have_accessible_name(
        "Direct message with Zoe, 1 unread message"
    )
    await expect(section.locator(".room-link").nth(1)).to_have_accessible_name(
        "Direct message with dave (you)"
    )
    await expect(page.locator(".toast", has_text="New conversation with Zoe.")).to_be_visible()
    await expect(page.get_by_role("list", name="Rooms").locator(".room-link")).to_have_count(0)
    await expect(page).to_have_title("(1) Hubbub")
    await expect(page.locator(".toast")).to_have_count(1)  # none for a room with myself

    # Desktop notifications are offered, never asked for on load: only the click asks.
    assert await page.evaluate("window.__asked") == 0
    await page.get_by_role("button", name="Turn on", exact=True).click()
    assert await page.evaluate("window.__asked") == 1
    await context.close()


async def test_a_long_unread_stretch_opens_where_reading_stopped(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    dave = await person(url, "dave", "Dave Grohl")
    erin = await person(url, "erin", "Erin Brockovich")
    room = await dave.create_room("ops")
    await erin.join(room)
    await erin.say(room, *(f"read {n:02d}" for n in range(1, 11)))
    [read] = (await dave.call("GET", f"/api/rooms/{room['id']}/messages?limit=1"))["messages"]
    await dave.call("PUT", f"/api/rooms/{room['id']}/read", json={"seq": read["seq"]})
    # More than the 50 newest the room's history frame holds: older pages are loaded too.
    await erin.say(room, *(f"unread {n:02d}" for n in range(1, 71)))

    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await log_in(page, url, "dave", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    await expect(page.locator("#new-messages")).to_be_in_viewport()
    await expect(page.locator("#new-messages + .msg .msg-text")).to_have_text("unread 01")
    await expect(message(page, "read 10")).to_be_in_viewport()
    await expect(message(page, "unread 70")).not_to_be_in_viewport()

    async def unread() -> int:
        [mine] = await dave.call("GET", "/api/me/rooms")
        count: int = mine["unread"]
        return count

    # The cursor follows what has been on screen, not what was loaded.
    partly = await eventually(unread, lambda n: 0 < n < 70, timeout=10)
    await page.locator("#timeline").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    await eventually(unread, lambda n: n == 0, timeout=10)
    assert partly > 40
    await context.close()
