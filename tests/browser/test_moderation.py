"""Owners and room admins change roles and remove people; members leave."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.support import BROWSER_TESTS, DESKTOP, RestartableServer, expect_connected, log_in, person

pytestmark = BROWSER_TESTS


async def test_roles_kicks_and_leaving(browser: Browser, server: RestartableServer) -> None:
    url = server.http_url
    olga_api = await person(url, "olga", "Olga Owner")
    mike = await person(url, "mike", "Mike Member")
    side = await olga_api.create_room("side")
    back_room = await olga_api.create_room("back-room", private=True)
    await mike.join(side)
    await olga_api.call("POST", f"/api/rooms/{back_room['id']}/members", json={"username": "mike"})
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

    # Removed or banned from rooms he does not have open: they leave his list at once,
    # each with a short notice.
    await expect(mike_page.locator(".room-link")).to_have_count(3)
    await olga_api.call("DELETE", f"/api/rooms/{side['id']}/members/{mike.id}")
    await expect(mike_page.locator(".toast", has_text="You were removed from #side.")).to_be_visible()
    await olga_api.call("POST", f"/api/rooms/{back_room['id']}/bans", json={"user_id": mike.id})
    await expect(mike_page.locator(".toast", has_text="You were banned from back-room.")).to_be_visible()
    await expect(mike_page.locator(".room-link")).to_have_count(1)
    await expect(mike_page.locator(".room-link")).to_have_text("Room lobby")

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


async def test_room_settings_bans_and_deleting_follow_the_permissions(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    olga = await person(url, "olga", "Olga Owner")
    adam = await person(url, "adam", "Adam Admin")
    mike = await person(url, "mike", "Mike Member")
    rita = await person(url, "rita", "Rita Rowdy")
    room = await olga.create_room("lobby", description="Say hi")
    for someone in (adam, mike, rita):
        await someone.join(room)
    await olga.call("PATCH", f"/api/rooms/{room['id']}/members/{adam.id}", json={"role": "admin"})
    path = f"/#/rooms/{room['id']}"

    # A member is shown no control they may not use.
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await log_in(page, url, "mike", path=path)
    await expect_connected(page)
    await expect(page.locator('.member[data-username="olga"]')).to_be_visible()
    await expect(page.get_by_role("button", name="Room settings")).to_have_count(0)
    await expect(page.locator(".member-manage")).to_have_count(0)
    await context.close()

    # A room admin changes the room and bans, but is not offered deleting it.
    adam_context = await browser.new_context(viewport=DESKTOP)
    adam_page = await adam_context.new_page()
    await log_in(adam_page, url, "adam", path=path)
    await expect_connected(adam_page)
    await adam_page.get_by_role("button", name="Room settings").click()
    settings = adam_page.get_by_role("dialog", name="Room settings")
    await expect(settings.get_by_role("heading", name="Banned people")).to_be_visible()
    await expect(settings.get_by_text("Nobody is banned.")).to_be_visible()
    await expect(settings.get_by_role("button", name="Delete room…")).to_have_count(0)
    await settings.get_by_label("Name").fill("")
    await settings.get_by_role("button", name="Save changes").click()
    await expect(settings.get_by_text("Give the room a name.")).to_be_visible()
    await settings.get_by_label("Name").fill("lobby-2")
    await settings.get_by_label("Description").fill("Say hi, then say more")
    await settings.get_by_role("button", name="Save changes").click()
    await expect(settings.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    await adam_page.keyboard.press("Escape")
    await expect(settings).to_have_count(0)
    await expect(adam_page.get_by_role("button", name="Room settings")).to_be_focused()
    await expect(adam_page.locator("#room-title")).to_have_text("lobby-2")
    await expect(adam_page.locator(".room-description")).to_have_text("Say hi, then say more")
    await expect(adam_page.locator(".room-link.active")).to_have_text("Room lobby-2")

    rita_row = adam_page.locator('.member[data-username="rita"]')
    await rita_row.get_by_label("Manage Rita Rowdy").click()
    await rita_row.get_by_role("button", name="Ban from room").click()
    await adam_page.get_by_role("dialog", name="Ban Rita Rowdy?").get_by_role("button", name="Ban").click()
    await expect(rita_row).to_have_count(0)
    await expect(adam_page.locator('.member[data-username="olga"] .member-manage')).to_have_count(0)

    # The owner sees the ban, with who banned and when, and lifts it.
    olga_context = await browser.new_context(viewport=DESKTOP)
    olga_page = await olga_context.new_page()
    await log_in(olga_page, url, "olga", path=path)
    await expect_connected(olga_page)
    await expect(olga_page.locator("#room-title")).to_have_text("lobby-2")
    await olga_page.get_by_role("button", name="Room settings").click()
    settings = olga_page.get_by_role("dialog", name="Room settings")
    ban = settings.locator('.ban[data-username="rita"]')
    await expect(ban).to_contain_text("Rita Rowdy")
    await expect(ban).to_contain_text("Banned by Adam Admin on")
    assert (await rita.call("GET", f"/api/rooms/{room['id']}"))["name"] == "lobby-2"
    await ban.get_by_role("button", name="Lift the ban on Rita Rowdy").click()
    await expect(settings.get_by_text("Rita Rowdy is no longer banned and can join again.")).to_be_visible()
    await expect(settings.get_by_text("Nobody is banned.")).to_be_visible()
    await rita.join(room)

    # Deleting needs the room's name typed; everyone else then sees it gone.
    await settings.get_by_role("button", name="Delete room…").click()
    confirm = olga_page.get_by_role("dialog", name="Delete #lobby-2?")
    await expect(confirm.get_by_role("button", name="Delete room")).to_be_disabled()
    await confirm.get_by_label("Type lobby-2 to confirm").fill("lobby-2")
    await confirm.get_by_role("button", name="Delete room").click()
    await expect(olga_page.locator(".toast", has_text="Deleted #lobby-2.")).to_be_visible()
    await expect(olga_page.get_by_role("heading", name="No rooms yet")).to_be_visible()
    await expect(olga_page.get_by_role("dialog")).to_have_count(0)
    await expect(adam_page.get_by_role("heading", name="lobby-2 is gone")).to_be_visible()
    await olga_context.close()
    await adam_context.close()
