"""Replies, reactions, direct rooms and search in the page (SPEC, Wave 2: "Replies,
reactions, direct rooms" and "Search"): a reply quotes what it answers and leads back to
it, two people see each other's reactions live, a conversation starts from a member's
entry or by username, and a search result opens its room at the message."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
from playwright.async_api import Browser, Page, expect

from tests.browser.support import (
    BROWSER_TESTS,
    DESKTOP,
    RestartableServer,
    eventually,
    expect_connected,
    log_in,
    message,
    person,
    send,
    shown_seqs,
    unlabelled_controls,
)

pytestmark = BROWSER_TESTS


def composer(page: Page) -> object:
    return page.locator("#composer textarea")


async def test_a_reply_quotes_what_it_answers_and_leads_back_to_it(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    ada = await person(url, "ada", "Ada Lovelace")
    grace = await person(url, "grace", "Grace Hopper")
    room = await ada.create_room("plans")
    await grace.join(room)
    [question] = await grace.say(room, "Where do we keep the launch checklist?")
    # Enough after it that the question is not among the pages the room opens with.
    await server.seed(room, grace, [f"chatter {n:03d}" for n in range(1, 201)])
    await grace.call(
        "POST",
        f"/api/rooms/{room['id']}/messages",
        json={"body": "Still looking for it, anyone?", "nonce": "r1", "reply_to": question["seq"]},
    )

    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await log_in(page, url, "ada", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)

    # Grace's reply quotes the question, fetched on its own (it is not loaded), and leads to it.
    reply = message(page, "Still looking for it, anyone?")
    quote = reply.get_by_role("button", name=re.compile(r"^In reply to Grace Hopper: Where do we keep"))
    await expect(quote).to_be_visible()
    await expect(message(page, "Where do we keep the launch checklist?")).to_have_count(0)
    await quote.click()
    original = message(page, "Where do we keep the launch checklist?")
    await expect(original).to_be_in_viewport()
    await expect(original).to_have_class(re.compile(r"\bhighlight\b"))
    await expect(original).to_be_focused()

    # Reply to it from its actions: the quote sits above the message box until sent.
    await original.get_by_role("button", name="Reply", exact=True).click()
    bar = page.locator(".composer-reply")
    await expect(bar).to_contain_text("Replying to Grace Hopper")
    await expect(bar).to_contain_text("Where do we keep the launch checklist?")
    await expect(composer(page)).to_be_focused()
    await composer(page).press("Escape")  # cancelled
    await expect(bar).to_be_hidden()

    # The keyboard: Shift+Tab from the message box reaches the newest message, R replies.
    await composer(page).focus()
    await page.keyboard.press("Shift+Tab")
    newest = message(page, "Still looking for it, anyone?")
    await expect(newest).to_be_focused()
    await page.keyboard.press("ArrowUp")
    await expect(message(page, "chatter 200")).to_be_focused()
    await page.keyboard.press("r")
    await expect(bar).to_contain_text("chatter 200")
    await page.keyboard.type("The checklist is in the wiki.")
    await page.keyboard.press("Enter")
    sent = message(page, "The checklist is in the wiki.")
    await expect(sent.locator(".msg-quote")).to_contain_text("chatter 200")
    await expect(bar).to_be_hidden()
    stored = (await ada.call("GET", f"/api/rooms/{room['id']}/messages?limit=1"))["messages"][-1]
    assert stored["body"] == "The checklist is in the wiki."
    assert stored["reply_to"] == question["seq"] + 200

    # Written offline, a reply waits in the outbox with what it answers; the tab is closed,
    # and the next one sends it, still a reply.
    await original.scroll_into_view_if_needed()
    await original.hover()
    await original.get_by_role("button", name="Reply", exact=True).click()
    await context.set_offline(True)
    await expect(page.locator("#connection")).to_have_attribute("data-connection-state", "offline")
    await send(page, "Found it, it was pinned.")
    await expect(page.locator(".msg.pending .msg-quote")).to_contain_text("Where do we keep")
    outbox = json.loads(await page.evaluate(f"localStorage.getItem('hubbub.outbox.{ada.id}')"))
    assert [entry["replyTo"] for entry in outbox[str(room["id"])]] == [question["seq"]]
    await page.close()
    await context.set_offline(False)
    page = await context.new_page()
    await page.goto(f"{url}/#/rooms/{room['id']}")
    await expect_connected(page)
    await expect(message(page, "Found it, it was pinned.").locator(".msg-quote")).to_contain_text(
        "Where do we keep"
    )

    async def newest_stored() -> dict[str, object]:
        page_of_one = await ada.call("GET", f"/api/rooms/{room['id']}/messages?limit=1")
        newest_message: dict[str, object] = page_of_one["messages"][-1]
        return newest_message

    found = await eventually(newest_stored, lambda m: m["body"] == "Found it, it was pinned.", timeout=10)
    assert found["reply_to"] == question["seq"]
    assert await unlabelled_controls(page) == []
    await context.close()


async def test_two_people_react_and_see_each_others_reactions_live(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    ada = await person(url, "ada", "Ada Lovelace")
    grace = await person(url, "grace", "Grace Hopper")
    room = await ada.create_room("plans")
    await grace.join(room)
    await ada.say(room, "We ship on Thursday.", "Cake after?")
    pages = {}
    for someone in ("ada", "grace"):
        context = await browser.new_context(viewport=DESKTOP)
        pages[someone] = await context.new_page()
        await log_in(pages[someone], url, someone, path=f"/#/rooms/{room['id']}")
        await expect_connected(pages[someone])
    ada_page, grace_page = pages["ada"], pages["grace"]

    # Ada reacts from the message's actions, with a common emoji.
    shipping = message(ada_page, "We ship on Thursday.")
    await shipping.hover()
    await shipping.get_by_role("button", name="Add a reaction").click()
    picker = ada_page.get_by_role("dialog", name="Add a reaction")
    assert await unlabelled_controls(ada_page) == []
    await picker.get_by_role("button", name="thumbs up").click()
    await expect(picker).to_have_count(0)
    chip = shipping.get_by_role("button", name=re.compile("^👍"))
    await expect(chip).to_have_accessible_name("👍 1: you")
    await expect(chip).to_have_attribute("aria-pressed", "true")

    # Grace sees it live, with who reacted, and adds hers by a click on the chip.
    grace_chip = message(grace_page, "We ship on Thursday.").get_by_role("button", name=re.compile("^👍"))
    await expect(grace_chip).to_have_accessible_name("👍 1: Ada Lovelace")
    await expect(grace_chip).to_have_attribute("aria-pressed", "false")
    await grace_chip.click()
    await expect(grace_chip).to_have_accessible_name("👍 2: Ada Lovelace and you")
    await expect(grace_chip.locator(".reaction-count")).to_have_text("2")
    await expect(chip).to_have_accessible_name("👍 2: Grace Hopper and you")

    # Ada takes hers back with a click: both see one left, Grace's.
    await chip.click()
    await expect(chip).to_have_accessible_name("👍 1: Grace Hopper")
    await expect(chip).to_have_attribute("aria-pressed", "false")
    await expect(grace_chip).to_have_accessible_name("👍 1: you")

    # The free field takes what the server takes, and says why not otherwise.
    await shipping.focus()  # the keyboard: + on a message opens the picker
    await ada_page.keyboard.press("+")
    field = picker.get_by_label("Another emoji or a short word")
    for refused, why in (("ship it", "no spaces"), ("a/b", "no spaces or slashes"), ("x" * 33, "at most 32")):
        await field.fill(refused)
        await field.press("Enter")
        await expect(picker.locator(".field-error")).to_contain_text(why)
    await field.fill("🦄")
    await field.press("Enter")
    await expect(
        message(grace_page, "We ship on Thursday.").get_by_role("button", name="🦄 1: Ada Lovelace")
    ).to_be_visible()
    stored = (await ada.call("GET", f"/api/rooms/{room['id']}/messages/1"))["reactions"]
    assert [(r["emoji"], r["count"]) for r in stored] == [("👍", 1), ("🦄", 1)]
    # Whatever the server takes is shown as text, markup included.
    await grace.call("PUT", f"/api/rooms/{room['id']}/messages/1/reactions/%3Cb%3Ehi%3Cb%3E")
    await expect(shipping.get_by_role("button", name="<b>hi<b> 1: Grace Hopper")).to_have_text("<b>hi<b>1")

    # Fifty different ones is the most a message takes: the 51st is explained.
    async with httpx.AsyncClient(base_url=url, headers=grace.headers, timeout=10) as http:
        path = f"/api/rooms/{room['id']}/messages/1/reactions"
        answers = await asyncio.gather(*(http.put(f"{path}/r{n}") for n in range(47)))
    assert {answer.status_code for answer in answers} == {200}
    await expect(shipping.locator(".reaction:not(.reaction-add)")).to_have_count(50)
    await shipping.focus()
    await ada_page.keyboard.press("+")
    await picker.get_by_role("button", name="party popper").click()
    await expect(ada_page.locator(".toast")).to_have_text(re.compile("has 50 different reactions already"))
    await ada_page.locator(".toast").get_by_role("button", name="Dismiss").click()

    # A message deleted while the picker is open: the page says so, nothing breaks.
    cake = message(ada_page, "Cake after?")
    await cake.hover()
    await cake.get_by_role("button", name="Add a reaction").click()
    await ada.call("DELETE", f"/api/rooms/{room['id']}/messages/2")
    await picker.get_by_role("button", name="party popper").click()
    await expect(ada_page.locator(".toast")).to_have_text(re.compile("That message was deleted"))
    await expect(ada_page.get_by_text("This message was deleted.")).to_be_visible()
    for page in pages.values():
        await page.context.close()


async def test_a_direct_conversation_starts_from_a_members_entry_or_by_username(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    ada = await person(url, "ada", "Ada Lovelace")
    grace = await person(url, "grace", "Grace Hopper")
    await person(url, "linus", "Linus Torvalds")
    room = await ada.create_room("plans")
    await grace.join(room)

    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await log_in(page, url, "ada", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    direct = page.get_by_role("list", name="Direct messages")

    # From Grace's entry among the members: the conversation opens, selected in the sidebar.
    await (
        page.locator('.member[data-username="grace"]')
        .get_by_role("button", name="Send Grace Hopper a direct message")
        .click()
    )
    await expect(page.locator("#room-title")).to_have_text("grace")
    await expect_connected(page)
    await expect(direct.locator(".room-link.active")).to_have_accessible_name("Direct message with grace")
    await send(page, "Got a minute?")
    await expect(message(page, "Got a minute?")).to_be_visible()
    [mine] = [
        entry for entry in await grace.call("GET", "/api/me/rooms") if entry["room"]["kind"] == "direct"
    ]
    assert mine["room"]["name"] == "ada, grace"

    # By username, from the dialog: a wrong one is explained, then Linus's opens.
    await page.get_by_role("button", name="New direct message").click()
    dialog = page.get_by_role("dialog", name="New direct message")
    field = dialog.get_by_label("Username")
    assert await unlabelled_controls(page) == []
    for wrong, why in (("no spaces", "3–32 letters"), ("nobody-here", "Nobody has that username")):
        await field.fill(wrong)
        await field.press("Enter")
        await expect(dialog.locator(".field-error")).to_contain_text(why)
    await field.fill("@Linus")  # an @ and another case find him too
    await field.press("Enter")
    await expect(dialog).to_have_count(0)
    await expect(page.locator("#room-title")).to_have_text("linus")
    await expect(direct.locator(".room-link")).to_have_count(2)
    await expect(direct.locator(".room-link.active")).to_have_accessible_name("Direct message with linus")

    # Asking again opens the same conversation.
    await page.get_by_role("button", name="New direct message").click()
    await dialog.get_by_label("Username").fill("grace")
    await dialog.get_by_label("Username").press("Enter")
    await expect(page.locator("#room-title")).to_have_text("grace")
    await expect(message(page, "Got a minute?")).to_be_visible()
    await expect(direct.locator(".room-link")).to_have_count(2)
    await context.close()


async def test_search_finds_words_and_opens_the_room_at_the_message(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    ada = await person(url, "ada", "Ada Lovelace")
    grace = await person(url, "grace", "Grace Hopper")
    ops = await ada.create_room("ops")
    plans = await ada.create_room("plans")
    await grace.join(ops)
    [target] = await grace.say(ops, "Deploy on Friday after the freeze, not before")
    # Far more after it than the room opens with or pages back to on its own.
    await server.seed(ops, grace, [f"ops chatter {n}" for n in range(330)])
    await grace.say(ops, "the deploy script is fixed")
    await ada.say(plans, *(f"deploy note {n:02d}" for n in range(25)))

    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await page.add_init_script(
        "window.__found = []; window.addEventListener('keydown', (e) => {"
        " if (e.key === 'f') window.__found.push(e.defaultPrevented); });"
    )
    await log_in(page, url, "ada", path=f"/#/rooms/{plans['id']}")
    await expect_connected(page)

    # Ctrl+F from the message box opens the search; every word matches the start of one.
    await expect(composer(page)).to_be_focused()
    await page.keyboard.press("Control+f")
    dialog = page.get_by_role("dialog", name="Search messages")
    field = dialog.get_by_role("searchbox", name="Search messages")
    await expect(field).to_be_focused()
    await field.fill("deplo fri")
    results = dialog.locator("a.result")
    await expect(results).to_have_count(1)
    await expect(results.first).to_contain_text("Grace Hopper")
    await expect(results.first.locator(".result-room")).to_have_text("ops")
    await expect(results.first.locator("mark")).to_have_text(["Deplo", "Fri"])
    await expect(results.first.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    assert await unlabelled_controls(page) == []
    # Pressed again in the search field, Ctrl+F is the browser's own find.
    await field.press("Control+f")
    assert await page.evaluate("window.__found") == [True, False]

    # Nothing but operators and quotes is no search; with them, words are still found.
    await field.fill('"* NEAR -')
    await expect(dialog.locator(".search-status")).to_have_text("No messages match.")
    await field.fill('"*()-')
    await expect(dialog.locator(".search-status")).to_have_text(
        "Type a word: searches look for letters and digits."
    )
    await field.fill('fri* -"deplo"')
    await expect(results).to_have_count(1)

    # Newest first, a page at a time.
    await field.fill("deploy")
    await expect(results).to_have_count(20)
    await expect(results.first.locator(".result-body")).to_have_text("deploy note 24")
    await dialog.get_by_role("button", name="More results").click()
    await expect(results).to_have_count(27)
    await expect(dialog.get_by_role("status")).to_have_text("27 messages found.")
    await expect(results.last.locator(".result-body")).to_have_text(
        "Deploy on Friday after the freeze, not before"
    )

    # Choosing one opens its room at it, with the messages around it, highlighted.
    await field.fill("freeze")
    await expect(results).to_have_count(1)
    await results.first.click()
    await expect(dialog).to_have_count(0)
    await expect(page.locator("#room-title")).to_have_text("ops")
    found = message(page, "Deploy on Friday after the freeze, not before")
    await expect(found).to_be_in_viewport()
    await expect(found).to_have_class(re.compile(r"\bhighlight\b"))
    await expect(found).to_be_focused()
    await expect(page.locator(f'.msg[data-seq="{target["seq"] + 1}"]')).to_be_attached()
    await expect(message(page, "the deploy script is fixed")).to_have_count(0)

    # What arrives meanwhile waits below until the reader goes back to the newest.
    await grace.say(ops, "said while Ada reads old news")
    await page.get_by_role("button", name="Jump to latest").click()
    await expect(message(page, "said while Ada reads old news")).to_be_in_viewport()
    await expect(message(page, "the deploy script is fixed")).to_be_attached()

    # `/` outside a text field opens it again, with what was searched.
    await page.locator("#timeline").focus()
    await page.keyboard.press("/")
    await expect(field).to_have_value("freeze")
    await expect(results).to_have_count(1)
    await context.close()


async def test_reacting_too_fast_is_explained(browser: Browser, server: RestartableServer) -> None:
    """Reactions count against the send limit (SPEC): the 429 is said, with its wait."""
    limited = RestartableServer(server.settings.model_copy(update={"send_rate": 0.01, "send_burst": 2}))
    await limited.start()
    try:
        ada = await person(limited.http_url, "ada", "Ada Lovelace")
        room = await ada.create_room("plans")
        await limited.seed(room, ada, ["React to this"])
        context = await browser.new_context(viewport=DESKTOP)
        page = await context.new_page()
        await log_in(page, limited.http_url, "ada", path=f"/#/rooms/{room['id']}")
        await expect_connected(page)
        target = message(page, "React to this")
        for name, shown in (("thumbs up", 1), ("party popper", 2), ("rocket", 2)):
            await target.focus()
            await page.keyboard.press("+")
            await page.get_by_role("dialog", name="Add a reaction").get_by_role("button", name=name).click()
            await expect(target.locator(".reaction:not(.reaction-add)")).to_have_count(shown)
        await expect(page.locator(".toast")).to_have_text(
            re.compile(r"^You're reacting too fast\. Try again in \d")
        )
        await context.close()
    finally:
        await limited.stop()


async def test_opened_far_back_the_room_pages_down_to_the_newest_each_message_once(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    ada = await person(url, "ada", "Ada Lovelace")
    room = await ada.create_room("ops")
    await server.seed(room, ada, [f"message {n}" for n in range(1, 401)])
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    # An address that opens the room at a message (what search results and mentions link to).
    await log_in(page, url, "ada", path=f"/#/rooms/{room['id']}/messages/20")
    await expect_connected(page)
    await expect(page.locator('.msg[data-seq="20"]')).to_be_focused()
    assert (await shown_seqs(page))[-1] < 200
    await expect(page).to_have_url(re.compile(rf"#/rooms/{room['id']}$"))
    await ada.say(room, "said meanwhile")

    async def to_the_bottom() -> list[int]:
        await page.locator("#timeline").evaluate("el => { el.scrollTop = el.scrollHeight; }")
        return await shown_seqs(page)

    seqs = await eventually(to_the_bottom, lambda seqs: seqs[-1] == 401, timeout=20)
    assert seqs == list(range(seqs[0], 402))
    await expect(message(page, "said meanwhile")).to_be_visible()
    await expect(page.get_by_role("button", name="Jump to latest")).to_be_hidden()
    await context.close()
