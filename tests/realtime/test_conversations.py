"""Live read state, mentions, replies and reactions: the frames of SPEC "Wave 2"."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from tests.factories import send
from tests.realtime.client import joined, multiplexed, pair_in_room
from tests.servers import LiveServer


async def test_a_reaction_reaches_the_room_with_its_rev(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    await send(http, ada, room_id, "react")
    url = f"/api/rooms/{room_id}/messages/1/reactions/{quote('🎉')}"
    async with joined(live_server, ada, room_id) as a:
        assert (await http.put(url, headers=bob.headers)).status_code == 200
        assert await a.recv_type("reaction") == {
            "type": "reaction",
            "room_id": room_id,
            "seq": 1,
            "emoji": "🎉",
            "user": bob.summary,
            "added": True,
            "rev": 2,
        }
        await http.put(url, headers=bob.headers)  # no change: no frame
        await http.delete(url, headers=bob.headers)
        removed = await a.recv_type("reaction")
        assert (removed["added"], removed["rev"]) == (False, 3)
        await a.expect_silence()


async def test_replies_over_the_socket(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, _, room_id = await pair_in_room(http)
    await send(http, ada, room_id, "question")
    async with joined(live_server, ada, room_id) as client:
        await client.send({"type": "message", "body": "answer", "reply_to": 1, "nonce": "r1"})
        assert (await client.recv_type("message"))["message"]["reply_to"] == 1
        for reply_to, code in (
            (7, "invalid_reply"),
            (0, "invalid_reply"),
            ("1", "invalid_frame"),
            (True, "invalid_frame"),
        ):
            await client.send({"type": "message", "body": "x", "reply_to": reply_to, "nonce": "bad"})
            error = await client.recv_type("error")
            assert (error["code"], error["nonce"]) == (code, "bad")


async def test_read_frames_reach_every_connection_of_the_reader(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    for body in ("one", "two", "@bob three"):
        await send(http, ada, room_id, body)
    async with (
        multiplexed(live_server, bob) as everywhere,
        joined(live_server, bob, room_id) as in_room,
        multiplexed(live_server, bob) as reading,
    ):
        await reading.subscribe(room_id)
        await reading.send({"type": "read", "room_id": room_id, "seq": 2})
        expected = {"type": "read", "room_id": room_id, "read_seq": 2, "unread": 1, "mentions": 1}
        for client in (everywhere, in_room, reading):
            assert await client.recv_type("read") == expected
        # Not moved (below the cursor): only the asking connection hears where it stands.
        await reading.send({"type": "read", "room_id": room_id, "seq": 1})
        assert await reading.recv_type("read") == expected
        await everywhere.expect_silence()
        # REST moves it too; a room socket reads its own room without naming it.
        await http.put(f"/api/rooms/{room_id}/read", json={"seq": 3}, headers=bob.headers)
        assert (await in_room.recv_type("read"))["unread"] == 0
        await in_room.send({"type": "read", "seq": "3"})
        assert (await in_room.recv_type("error"))["code"] == "invalid_frame"
        await reading.send({"type": "read", "seq": 3})
        assert (await reading.recv_type("error"))["code"] == "invalid_frame"  # /ws needs room_id


async def test_an_own_send_moves_the_cursor_live(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, bob, room_id = await pair_in_room(http)
    await send(http, ada, room_id, "unread for bob")
    async with multiplexed(live_server, bob) as elsewhere, joined(live_server, bob, room_id) as in_room:
        await in_room.say("mine", nonce="m")
        expected = {"type": "read", "room_id": room_id, "read_seq": 2, "unread": 0, "mentions": 0}
        assert await in_room.recv_type("read") == expected
        assert await elsewhere.recv_type("read") == expected


async def test_activity_says_when_it_mentions_the_member(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    async with multiplexed(live_server, bob) as b, multiplexed(live_server, ada) as a:
        await send(http, ada, room_id, "hey @Bob.")
        assert (await b.recv_type("activity"))["mention"] is True
        assert (await a.recv_type("activity"))["mention"] is False  # the author's other connection
        await send(http, ada, room_id, "hey everyone")
        assert (await b.recv_type("activity"))["mention"] is False


async def test_opening_a_direct_room_adds_it_for_both_the_first_time(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, _ = await pair_in_room(http)
    async with multiplexed(live_server, ada) as a, multiplexed(live_server, bob) as b:
        opened = await http.post("/api/direct", json={"username": "BOB"}, headers=ada.headers)
        assert opened.status_code == 201
        room = opened.json()
        for client in (a, b):
            added = await client.recv_type("room_added")
            assert (added["room"]["id"], added["room"]["kind"], added["role"]) == (
                room["id"],
                "direct",
                "member",
            )
        again = await http.post("/api/direct", json={"username": "ada"}, headers=bob.headers)
        assert (again.status_code, again.json()["id"]) == (200, room["id"])
        await a.expect_silence()  # opened again: nothing new
        mine = (await http.get("/api/me/rooms", headers=bob.headers)).json()
        assert [entry["room"]["kind"] for entry in mine].count("direct") == 1
        listed = (await http.get("/api/rooms", headers=bob.headers)).json()
        assert room["id"] not in [r["id"] for r in listed]
        await send(http, ada, room["id"], "psst")
        assert (await b.recv_type("activity"))["room_id"] == room["id"]
