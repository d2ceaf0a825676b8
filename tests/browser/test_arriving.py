"""Arriving: a welcome instead of a stranger's room, invitations that show up, a room
one is not in without a false error, and the phone's drawer after creating a room."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Browser, Route, expect

from tests.browser.support import BROWSER_TESTS, DESKTOP, PHONE, RestartableServer, log_in, person, sign_up

pytestmark = BROWSER_TESTS


async def test_a_new_person_is_welcomed_and_sees_invitations(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    alice = await person(url, "alice", "Alice Liddell")
    omar_context = await browser.new_context(viewport=DESKTOP)
    omar = await omar_context.new_page()
    await sign_up(omar, url, "omar", "Omar Khayyam")
    await expect(omar.get_by_role("heading", name="No rooms yet")).to_be_visible()

    # An invitation arrives live (room_added): the sidebar shows it at once, without a
    # reload or a poll, with a notice; the main area stops saying there are no rooms.
    book_club = await alice.create_room("book-club", private=True)
    await alice.create_room("lounge", description="Anything goes")
    await alice.call("POST", f"/api/rooms/{book_club['id']}/members", json={"username": "omar"})
    await expect(omar.locator(".room-link", has_text="book-club")).to_be_visible()
    await expect(omar.locator(".toast", has_text="You were added to book-club.")).to_be_visible()
    await expect(omar.get_by_role("heading", name="Welcome, Omar Khayyam")).to_be_visible()
    await expect(omar.get_by_role("heading", name="No rooms yet")).to_have_count(0)
    # Only the rooms Omar is in: the public lounge is for browsing, not in his list.
    await expect(omar.locator(".room-link")).to_have_count(1)
    invited = omar.get_by_role("navigation", name="Your rooms").get_by_role("link", name="book-club")
    await invited.click()
    await expect(omar.locator("#room-title")).to_have_text("book-club")
    await omar_context.close()

    # Someone who signs up while public rooms exist is welcomed too, not dropped into the
    # newest public room (a stranger's, behind a Join card).
    context = await browser.new_context(viewport=PHONE)
    nina = await context.new_page()
    await sign_up(nina, url, "nina", "Nina Simone")
    await expect(nina.get_by_role("heading", name="Welcome, Nina Simone")).to_be_visible()
    await expect(nina.get_by_role("button", name="Join room")).to_have_count(0)
    assert "#/rooms/" not in nina.url

    # Browsing the rooms finds a public one to open.
    await nina.get_by_role("button", name="Browse rooms").click()
    browse = nina.get_by_role("dialog", name="Browse rooms")
    await expect(browse.get_by_role("link")).to_have_count(1)  # Omar's private room is not listed
    await browse.get_by_label("Filter rooms by name").fill("LOU")
    await browse.get_by_label("Filter rooms by name").press("Enter")
    await expect(nina.get_by_role("heading", name="You're not in #lounge yet")).to_be_visible()
    await expect(browse).to_have_count(0)
    await context.close()


async def test_a_room_one_is_not_in_gives_no_false_error_and_the_drawer_closes(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    alice = await person(url, "alice", "Alice Liddell")
    room = await alice.create_room("lounge")
    await person(url, "nina", "Nina Simone")
    context = await browser.new_context(viewport=PHONE)
    nina = await context.new_page()

    # The room's members answer only after the socket has refused (1008 not_member):
    # that order used to add a red "Members only." toast to the Join card.
    refused = asyncio.Event()

    async def members_after_the_refusal(route: Route) -> None:
        await refused.wait()
        await route.continue_()

    await nina.route(re.compile(r"/api/rooms/\d+/members$"), members_after_the_refusal)
    await log_in(nina, url, "nina", path=f"/#/rooms/{room['id']}")
    await expect(nina.get_by_role("heading", name="You're not in #lounge yet")).to_be_visible()
    async with nina.expect_request_finished(lambda request: request.url.endswith("/members")):
        refused.set()
    await nina.get_by_role("button", name="Join room").click()
    await expect(nina.locator("#connection")).to_have_attribute("data-connection-state", "connected")
    await expect(nina.locator(".toast")).to_have_count(0)

    # On a phone, creating a room from the Rooms drawer closes the drawer over it.
    await nina.get_by_role("button", name="Rooms", exact=True).click()
    sidebar = nina.locator("#sidebar")
    await expect(sidebar).to_be_in_viewport()
    await sidebar.get_by_role("button", name="Create a room").click()
    create = nina.get_by_role("dialog", name="Create a room")
    await create.get_by_label("Name").fill("nina-notes")
    await create.get_by_role("button", name="Create room").click()
    await expect(nina.locator("#room-title")).to_have_text("nina-notes")
    await expect(sidebar).not_to_be_in_viewport()
    await expect(nina.get_by_role("combobox", name="Message #nina-notes")).to_be_visible()
    await context.close()
