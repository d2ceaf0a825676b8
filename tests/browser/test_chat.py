"""Two people chat in a private room, each in their own browser; hostile text stays text."""

from __future__ import annotations

from playwright.async_api import Browser, Dialog, expect

from tests.browser.support import (
    BROWSER_TESTS,
    RestartableServer,
    confirmed_bodies,
    expect_connected,
    log_in,
    message,
    open_room,
    person,
    send,
    sign_up,
)

pytestmark = BROWSER_TESTS


async def test_two_people_chat_in_a_private_room(browser: Browser, server: RestartableServer) -> None:
    url = server.http_url
    alice_context = await browser.new_context(viewport={"width": 1280, "height": 800})
    bob_context = await browser.new_context(viewport={"width": 1280, "height": 800})
    alice = await alice_context.new_page()
    bob = await bob_context.new_page()

    await sign_up(alice, url, "alice", "Alice Liddell")
    await sign_up(bob, url, "bob", "Bob Dylan")
    await expect(alice.get_by_role("heading", name="No rooms yet")).to_be_visible()

    # Alice creates a private room from the sidebar.
    await alice.get_by_role("button", name="Create a room", exact=True).first.click()
    dialog = alice.get_by_role("dialog", name="Create a room")
    await dialog.get_by_label("Name").fill("rabbit-hole")
    await dialog.get_by_label("Private room").check()
    await dialog.get_by_role("button", name="Create room").click()
    await expect(alice.locator("#room-title")).to_have_text("rabbit-hole")
    await expect_connected(alice)
    await expect(alice.locator(".room-link", has_text="rabbit-hole").locator(".icon-lock")).to_have_count(1)

    # ... and invites Bob by username; a wrong name gets a clear answer first.
    invite = alice.locator("#invite-form")
    await invite.get_by_label("Invite by username").fill("nobody-here")
    await invite.get_by_role("button", name="Invite").click()
    await expect(invite.locator(".form-message")).to_have_text("Nobody has that username.")
    await invite.get_by_label("Invite by username").fill("bob")
    await invite.get_by_role("button", name="Invite").click()
    await expect(invite.locator(".form-message")).to_have_text("Invited @bob.")
    await expect(alice.locator('.member[data-username="bob"]')).to_be_visible()

    # Bob sees the room once his list refreshes (a reload here), and opens it.
    await bob.reload()
    await open_room(bob, "rabbit-hole")
    await expect(alice.locator('.member.online[data-username="bob"]')).to_be_visible()
    await expect(bob.locator('.member.online[data-username="alice"]')).to_be_visible()

    # They talk; each sees the other's messages live, with names.
    await send(alice, "Hello Bob, welcome to the rabbit hole.")
    await expect(message(alice, "Hello Bob, welcome to the rabbit hole.")).to_be_visible()
    received = message(bob, "Hello Bob, welcome to the rabbit hole.")
    await expect(received).to_be_visible()
    await expect(received.locator(".msg-author")).to_have_text("Alice Liddell")

    # Bob types: Alice sees it before he sends anything.
    composer = bob.locator("#composer textarea")
    await composer.press_sequentially("Thanks Al")
    await expect(alice.locator("#typing")).to_have_text("Bob Dylan is typing…")
    await composer.press("Shift+Enter")
    await composer.press_sequentially("ice!")
    await composer.press("Enter")
    await expect(message(alice, "Thanks Al\nice!")).to_be_visible()
    await expect(alice.locator("#typing")).to_have_text("")
    await expect(message(bob, "Thanks Al\nice!")).to_be_visible()

    await send(alice, "How deep does it go?")
    await expect(message(bob, "How deep does it go?")).to_be_visible()
    await expect(message(alice, "How deep does it go?")).to_be_visible()  # confirmed, not pending
    expected = ["Hello Bob, welcome to the rabbit hole.", "Thanks Al\nice!", "How deep does it go?"]
    assert await confirmed_bodies(alice) == expected
    assert await confirmed_bodies(bob) == expected

    # Alice edits her last message (arrow up in the empty composer) and deletes the first.
    await alice.locator("#composer textarea").press("ArrowUp")
    edit = alice.get_by_role("textbox", name="Edit message")
    await edit.fill("How deep does it go, really?")
    await edit.press("Enter")
    edited = message(bob, "How deep does it go, really?")
    await expect(edited).to_be_visible()
    await expect(edited.locator(".msg-edited")).to_have_text("(edited)")
    first = message(alice, "Hello Bob, welcome to the rabbit hole.")
    await first.hover()
    await first.get_by_role("button", name="Delete message").click()
    await alice.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(bob.get_by_text("This message was deleted.")).to_be_visible()
    await expect(bob.get_by_text("Hello Bob, welcome to the rabbit hole.")).to_have_count(0)

    await alice_context.close()
    await bob_context.close()


async def test_hostile_text_is_shown_as_text_and_runs_nothing(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    payloads = [
        "<img src=x onerror=alert(1)>",
        "<script>window.__pwned = 'script'</script>",
        '<a href="javascript:alert(2)">click me</a>',
        'https://example.com/"><img src=x onerror=alert(3)>',
        "<svg onload=alert(4)></svg> &amp; &lt;b&gt;",
    ]
    mallory = await person(url, "mallory", "<img src=x onerror=\"window.__pwned='name'\">")
    room = await mallory.create_room("<b>trap</b>", description="<iframe src=javascript:alert(5)></iframe>")
    await mallory.say(room, *payloads)

    context = await browser.new_context()
    page = await context.new_page()
    dialogs: list[Dialog] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog))
    await person(url, "victim")
    await log_in(page, url, "victim")
    await page.get_by_role("button", name="Browse rooms").first.click()
    await page.get_by_role("dialog", name="Browse rooms").get_by_role("link", name="<b>trap</b>").click()
    await expect(page.get_by_role("heading", name="You're not in #<b>trap</b> yet")).to_be_visible()
    await page.get_by_role("button", name="Join room").click()
    await expect_connected(page)

    # The bodies read exactly as sent, character for character.
    for body in payloads:
        await expect(message(page, body)).to_have_count(1)
    assert await confirmed_bodies(page) == payloads
    # My own message, shown pending before the server has it, is text too.
    await send(page, "<img src=y onerror=alert(6)>")
    await expect(message(page, "<img src=y onerror=alert(6)>")).to_have_count(1)

    await expect(page.locator("#room-title")).to_have_text("<b>trap</b>")
    await expect(page.locator(".room-description")).to_have_text("<iframe src=javascript:alert(5)></iframe>")
    await expect(page.locator('.member[data-username="mallory"] .member-name')).to_have_text(
        "<img src=x onerror=\"window.__pwned='name'\">"
    )
    await expect(page.locator("#messages .msg-author").first).to_have_text(
        "<img src=x onerror=\"window.__pwned='name'\">"
    )
    # Nothing was injected, nothing ran.
    app = page.locator("#app")
    for selector in ("img", "script", "iframe", "svg:not(.icon)", "b", 'a[href^="javascript"]'):
        assert await app.locator(selector).count() == 0, selector
    link = message(page, payloads[3]).locator("a")
    assert await link.get_attribute("href") == "https://example.com/"
    await page.wait_for_timeout(300)  # let any onerror handler have its chance
    assert await page.evaluate("window.__pwned") is None
    assert dialogs == []
    await context.close()


async def test_text_follows_its_own_direction_and_initials_skip_markup(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    noa = await person(url, "noa", "נועה כהן")
    ari = await person(url, "ari", "Ari <script>")
    room = await noa.create_room("salon")
    await ari.join(room)
    await noa.say(room, "שלום לכולם, מה נשמע?")
    await ari.say(room, "Hello, all")

    context = await browser.new_context()
    page = await context.new_page()
    await log_in(page, url, "ari", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    direction = "el => getComputedStyle(el).direction"
    hebrew = message(page, "שלום לכולם, מה נשמע?").locator(".msg-body")
    assert await hebrew.evaluate(direction) == "rtl"
    assert await message(page, "Hello, all").locator(".msg-body").evaluate(direction) == "ltr"
    composer = page.locator("#composer textarea")
    await composer.fill("مرحبا بالجميع")
    assert await composer.evaluate(direction) == "rtl"
    await composer.fill("and back")
    assert await composer.evaluate(direction) == "ltr"

    await expect(page.locator('.member[data-username="ari"] .avatar')).to_have_text("AS")
    await expect(page.locator('.member[data-username="noa"] .avatar')).to_have_text("נכ")
    await context.close()
