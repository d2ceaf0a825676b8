"""Owners and room admins change roles and remove people; members leave."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.support import BROWSER_TESTS, RestartableServer, expect_connected, log_in, person

pytestmark = BROWSER_TESTS


async def test_roles_kicks_and_leaving(browser: Browser, server: RestartableServer) -> None:
    url = server.http_url
    await person(url, "olga", "Olga Owner")
    mike = await person(url, "mike", "Mike Member")
    olga_context = await browser.new_context(viewport={"width": 1280, "height": 800})
    mike_context = await browser.new_context(viewport={"width": 1280, "height": 800})
    olga = await olga_context.new_page()
    mike_page = await mike_context.new_page()

    await log_in(olga, url, "olga")
    await olga.get_by_role("button", name="Create a room", exact=True).first.click()
    await olga.get_by_role("dialog").get_by_label("Name").fill("lobby")
    await olga.get_by_role("dialog").get_by_role("button", name="Create room").click()
    await expect_connected(olga)
    room_id = olga.url.rsplit("/", 1)[-1]
    await mike.join({"id": room_id})
    await log_in(mike_page, url, "mike", path=f"/#/rooms/{room_id}")
    await expect_connected(mike_page)

    # Olga makes Mike a room admin; both see it.
    mike_row = olga.locator('.member[data-username="mike"]')
    await mike_row.get_by_label("Manage Mike Member").click()  # a <summary>
    await mike_row.get_by_label("Role").select_option("admin")
    await expect(mike_row.locator(".role-badge")).to_have_text("Admin")
    await expect(mike_page.get_by_text("You are now an admin")).to_be_visible()
    await expect(mike_page.locator('.member[data-username="mike"] .role-badge')).to_have_text("Admin")
    # As a room admin Mike may invite, but not manage the owner.
    await expect(mike_page.locator("#invite-form")).to_be_visible()
    await expect(mike_page.locator('.member[data-username="olga"] .member-manage')).to_have_count(0)

    # Olga removes Mike: his page says so and offers to join again (a public room).
    mike_row = olga.locator('.member[data-username="mike"]')
    await mike_row.get_by_label("Manage Mike Member").click()
    await mike_row.get_by_role("button", name="Remove from room").click()
    await olga.get_by_role("dialog").get_by_role("button", name="Remove").click()
    await expect(olga.locator('.member[data-username="mike"]')).to_have_count(0)
    await expect(mike_page.get_by_role("heading", name="You were removed from #lobby")).to_be_visible()
    await mike_page.get_by_role("button", name="Join again").click()
    await expect_connected(mike_page)
    await expect(olga.locator('.member.online[data-username="mike"]')).to_be_visible()

    # The last owner cannot leave; Mike, a member again, can.
    await olga.get_by_role("button", name="Leave room").click()
    await olga.get_by_role("dialog").get_by_role("button", name="Leave room").click()
    await expect(olga.locator(".toast-error")).to_contain_text("You're the room's last owner.")
    await mike_page.get_by_role("button", name="Leave room").click()
    await mike_page.get_by_role("dialog").get_by_role("button", name="Leave room").click()
    await expect(mike_page.locator(".toast", has_text="You left #lobby.")).to_be_visible()
    await expect(olga.locator('.member[data-username="mike"]')).to_have_count(0)
    await olga_context.close()
    await mike_context.close()
