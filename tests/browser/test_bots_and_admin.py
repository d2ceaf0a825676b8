"""Bots, announcements, mentions and invitations in the page: a bot is marked as one
beside its messages and among the members, a site admin's announcement is a banner until
dismissed, the mentions list leads to each message, and site admins make, share and
revoke invitations."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.browser.support import (
    BROWSER_TESTS,
    DESKTOP,
    Person,
    RestartableServer,
    expect_connected,
    log_in,
    message,
    person,
    unlabelled_controls,
)

pytestmark = BROWSER_TESTS


async def test_bots_announcements_mentions_and_invitations(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    rosa = await server.create_admin("rosa", "Rosa Parks")
    grace = await person(url, "grace", "Grace Hopper")
    ops = await rosa.create_room("ops")
    lounge = await rosa.create_room("lounge")
    for room in (ops, lounge):
        await grace.join(room)
    made = await rosa.call(
        "POST", "/api/admin/bots", json={"username": "deploy-bot", "display_name": "Deploy Bot"}
    )
    bot = Person(url, "deploy-bot", "Deploy Bot", token=made["token"], id=made["user"]["id"])
    await bot.join(ops)
    await bot.say(ops, "Build 42 is green")
    await grace.say(lounge, "@rosa can you look at the pager?")
    await grace.say(ops, "@rosa the bot says the build is green")

    context = await browser.new_context(viewport=DESKTOP)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = await context.new_page()
    await log_in(page, url, "rosa", path=f"/#/rooms/{ops['id']}")
    await expect_connected(page)

    # The bot is marked as one, beside its messages and among the members; people are not.
    await expect(message(page, "Build 42 is green").locator(".bot-badge")).to_have_text("bot")
    person_said = message(page, "@rosa the bot says the build is green")
    await expect(person_said.locator(".bot-badge")).to_have_count(0)
    await expect(page.locator('.member[data-username="deploy-bot"] .bot-badge')).to_be_visible()
    await expect(page.locator('.member[data-username="grace"] .bot-badge')).to_have_count(0)

    # An announcement is a banner above the room until it is dismissed.
    await rosa.call("POST", "/api/admin/announcements", json={"body": "Maintenance tonight at 18:00"})
    banner = page.get_by_role("region", name="Announcements")
    announcement = banner.get_by_role("article", name=re.compile("^Announcement from Rosa Parks"))
    await expect(announcement).to_contain_text("Maintenance tonight at 18:00")
    await expect(page.locator("#announcer")).to_have_text(
        "Announcement from Rosa Parks: Maintenance tonight at 18:00"
    )
    assert await unlabelled_controls(page) == []
    await announcement.get_by_role("button", name="Dismiss the announcement from Rosa Parks").click()
    await expect(banner).to_be_hidden()
    await expect(page.locator("#composer textarea")).to_be_focused()

    # The mentions list, newest first; one leads to its room, at the message.
    await page.get_by_role("button", name="Mentions").click()
    dialog = page.get_by_role("dialog", name="Mentions")
    results = dialog.locator("a.result")
    await expect(results).to_have_count(2)
    await expect(results.first.locator(".result-body")).to_have_text("@rosa the bot says the build is green")
    await expect(results.nth(1).locator(".result-room")).to_have_text("lounge")
    await expect(results.first).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(results.nth(1)).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(dialog).to_have_count(0)
    await expect(page.locator("#room-title")).to_have_text("lounge")
    pager = message(page, "@rosa can you look at the pager?")
    await expect(pager).to_have_class(re.compile(r"\bhighlight\b"))
    await expect(pager).to_be_focused()

    # Invitations: made with uses and days, listed with a link to share, revoked.
    await page.get_by_role("button", name="Invitations").click()
    invites = page.get_by_role("dialog", name="Invitations")
    await expect(invites.get_by_text("None: every invitation was used up")).to_be_visible()
    uses = invites.get_by_label("Sign-ups it allows")
    await uses.fill("0")
    await invites.get_by_role("button", name="Create invitation").click()
    await expect(invites.locator(".field-error").first).to_have_text("A whole number from 1 to 1,000,000.")
    await uses.fill("3")
    await invites.get_by_label("Days until it expires").fill("2")
    await invites.get_by_role("button", name="Create invitation").click()
    link = invites.get_by_label("Invitation link, 3 sign-ups left")
    await expect(link).to_be_focused()
    [live] = await rosa.call("GET", "/api/admin/invites")
    assert live["uses_left"] == 3
    await expect(link).to_have_value(f"{url}/#invite={live['code']}")
    assert await unlabelled_controls(page) == []
    await invites.get_by_role("button", name="Copy link").click()
    await expect(invites.get_by_text("Copied.")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == f"{url}/#invite={live['code']}"
    await invites.get_by_role("button", name="Revoke").click()
    await (
        page.get_by_role("dialog", name="Revoke this invitation?")
        .get_by_role("button", name="Revoke")
        .click()
    )
    await expect(invites.get_by_text("None: every invitation was used up")).to_be_visible()
    assert await rosa.call("GET", "/api/admin/invites") == []

    # Not a site admin: no invitations to manage.
    other = await browser.new_context(viewport=DESKTOP)
    grace_page = await other.new_page()
    await log_in(grace_page, url, "grace")
    await expect(grace_page.get_by_role("button", name="Mentions")).to_be_visible()
    await expect(grace_page.get_by_role("button", name="Invitations")).to_have_count(0)
    await other.close()
    await context.close()
