"""The connection comes back by itself after a server restart (1012), a network loss and
a 1013, subscribes its room again from the last change it saw (`since_rev`), and misses
nothing, edits included, showing nothing twice."""

from __future__ import annotations

import contextlib
import json
import re

from playwright.async_api import Browser, Page, WebSocketRoute, expect
from playwright.async_api import Error as PlaywrightError
from websockets.asyncio.client import connect

from tests.browser.support import (
    BROWSER_TESTS,
    DESKTOP,
    RestartableServer,
    confirmed_bodies,
    eventually,
    expect_connected,
    log_in,
    message,
    person,
    record_connection_states,
    send,
    shown_seqs,
)

pytestmark = BROWSER_TESTS


async def expect_exactly_once_in_order(page: Page, expected: list[str]) -> None:
    seqs = await shown_seqs(page)
    assert seqs == list(range(1, len(expected) + 1)), "every seq once, in order, none missing"
    assert await confirmed_bodies(page) == expected


async def test_restart_and_network_loss_miss_nothing_and_show_nothing_twice(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    dave = await person(url, "dave", "Dave Grohl")
    erin = await person(url, "erin", "Erin Brockovich")
    room = await dave.create_room("ops")
    await erin.join(room)
    [first] = await erin.say(room, "before the restart")

    context = await browser.new_context()
    page = await context.new_page()
    await log_in(page, url, "dave", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    await expect(message(page, "before the restart")).to_be_visible()
    states = await record_connection_states(page)

    # 1. The server restarts (1012) while the page is open: it says so, and comes back.
    await server.stop()
    await expect(page.locator("#connection")).to_have_attribute("data-connection-state", "reconnecting")
    await expect(page.locator("#connection")).to_contain_text("Reconnecting")
    await expect(page.locator(".banner")).to_contain_text("reconnecting")
    await server.start()
    await erin.say(room, "right after the restart 1", "right after the restart 2")
    await expect_connected(page)
    await expect(message(page, "right after the restart 2")).to_be_visible()
    assert "reconnecting" in await states()

    # 2. The network goes away; meanwhile the server restarts again and Erin talks on.
    await context.set_offline(True)
    await expect(page.locator("#connection")).to_have_attribute("data-connection-state", "offline")
    await server.stop()
    await server.start()
    missed = [f"while you were away {n}" for n in range(1, 4)]
    await erin.say(room, *missed)
    await erin.edit(room, first["seq"], "before the restart, edited while you were away")
    # Dave writes while offline: shown at once, pending.
    await send(page, "typed while offline")
    pending = page.locator('#messages .msg[data-state="pending"]')
    await expect(pending).to_have_count(1)
    await expect(pending.locator(".msg-text")).to_have_text("typed while offline")
    await context.set_offline(False)
    await expect_connected(page)
    await expect(message(page, "typed while offline")).to_be_visible()
    await expect(pending).to_have_count(0)

    await erin.say(room, "after everything")
    await expect(message(page, "after everything")).to_be_visible()
    await expect_exactly_once_in_order(
        page,
        [
            "before the restart, edited while you were away",
            "right after the restart 1",
            "right after the restart 2",
            *missed,
            "typed while offline",
            "after everything",
        ],
    )
    await context.close()


async def test_unsent_messages_survive_reloads_and_arrive_once(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    dave = await person(url, "dave", "Dave Grohl")
    erin = await person(url, "erin", "Erin Brockovich")
    room = await dave.create_room("ops")
    await erin.join(room)
    path = f"/#/rooms/{room['id']}"

    async def stored(body: str) -> int:
        page_of_messages = await dave.call("GET", f"/api/rooms/{room['id']}/messages?limit=200")
        return sum(m["body"] == body for m in page_of_messages["messages"])

    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await log_in(page, url, "dave", path=path)
    await expect_connected(page)
    pending = page.locator('#messages .msg[data-state="pending"]')
    erin_url = f"ws://127.0.0.1:{server.port}/ws?token={erin.token}"
    async with connect(erin_url) as erin_socket:
        assert json.loads(await erin_socket.recv())["type"] == "ready"
        await erin_socket.send(json.dumps({"type": "subscribe", "room_id": room["id"]}))
        assert json.loads(await erin_socket.recv())["type"] == "history"
        await expect(page.locator('.member.online[data-username="erin"]')).to_be_visible()

        # Offline, the page says what it knows: presence is unknown, messages wait, and
        # the composer still takes them.
        await context.set_offline(True)
        await expect(page.locator("#connection")).to_have_attribute("data-connection-state", "offline")
        await expect(page.locator("#presence-unknown")).to_be_visible()
        await expect(page.locator(".member.online")).to_have_count(0)
        await send(page, "written offline")
        await expect(pending.locator(".msg-status")).to_have_text("Waiting for connection")
        await expect(page.locator("#composer textarea")).to_be_editable()

        # A reload while offline fails; the message is kept, and goes out, once, as soon
        # as the page is back and connected.
        with contextlib.suppress(PlaywrightError):
            await page.reload()
        await context.set_offline(False)
        await page.goto(url + path)
        await expect_connected(page)
        await expect(message(page, "written offline")).to_have_count(1)
        await expect(pending).to_have_count(0)
        await expect(page.locator('.member.online[data-username="erin"]')).to_be_visible()
    assert await stored("written offline") == 1

    # The server stores a message but its answer never reaches the page (the link drops
    # first). After a reload the page sends it again, with its nonce: stored once.
    lose_answers = True
    routes: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        routes.append(ws)
        upstream = ws.connect_to_server()

        def from_server(frame: str | bytes) -> None:
            data = json.loads(frame)
            mine = data.get("type") == "message" and data["message"]["author"]["id"] == dave.id
            if not (lose_answers and mine):
                ws.send(frame)

        upstream.on_message(from_server)
        ws.on_message(upstream.send)

    await page.route_web_socket(re.compile(r"/ws\?"), route)
    await page.reload()
    await expect_connected(page)
    await send(page, "stored, answer lost")
    await eventually(lambda: stored("stored, answer lost"), lambda count: count == 1, timeout=10)
    await expect(pending.locator(".msg-status")).to_have_text("Sending…")
    lose_answers = False
    await page.reload()
    await expect_connected(page)
    await expect(message(page, "stored, answer lost")).to_have_count(1)
    await expect(pending).to_have_count(0)
    assert await page.evaluate(f"localStorage.getItem('hubbub.outbox.{dave.id}')") is None
    assert await stored("stored, answer lost") == 1
    assert await confirmed_bodies(page) == ["written offline", "stored, answer lost"]

    # The server gives up on the page as a slow reader (1013) while Erin talks: it comes
    # back, subscribes again from the last change it saw, and shows each message once.
    await routes[-1].close(code=1013, reason="queue_overflow")
    await erin.say(room, "during the 1013 1", "during the 1013 2")
    await expect(message(page, "during the 1013 2")).to_be_visible()
    await expect_connected(page)
    await erin.say(room, "after the 1013")
    await expect(message(page, "after the 1013")).to_be_visible()
    assert await confirmed_bodies(page) == [
        "written offline",
        "stored, answer lost",
        "during the 1013 1",
        "during the 1013 2",
        "after the 1013",
    ]
    assert await shown_seqs(page) == [1, 2, 3, 4, 5]
    await context.close()
