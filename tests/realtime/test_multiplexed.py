"""`/ws`: one connection for every room — subscriptions, their refusals and ends, the frames
that name a room, and the user-level frames that need no subscription."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest

from tests.factories import create_room, invite, join, send, signup
from tests.realtime.client import joined, multiplexed, pair_in_room, refused, ws_path
from tests.servers import LiveServer


async def test_the_first_frame_is_ready(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await signup(http, "ada")
    async with multiplexed(live_server, ada) as client:
        ready = client.history
        assert ready is not None
        assert ready["user"] == ada.summary
        assert ready["expires_at"].endswith("Z")


@pytest.mark.parametrize(("token", "reason"), [(None, "token_missing"), ("nonsense", "token_invalid")])
async def test_admission_refuses_bad_tokens(live_server: LiveServer, token: str | None, reason: str) -> None:
    assert await refused(live_server, ws_path(token)) == (4401, reason)


async def test_a_subscription_behaves_like_a_room_socket(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    await send(http, ada, room_id, "before")
    async with multiplexed(live_server, bob) as b, joined(live_server, ada, room_id) as a:
        history, presence = await b.subscribe(room_id)
        assert [m["body"] for m in history["messages"]] == ["before"]
        assert (history["last_seq"], history["last_rev"]) == (1, 1)
        assert {u["id"] for u in presence["users"]} == {ada.id, bob.id}
        assert (await a.recv_type("join"))["user"] == bob.summary  # a subscription is presence
        await b.send({"type": "message", "room_id": room_id, "body": "hi", "nonce": "n1"})
        for client in (a, b):
            frame = await client.recv_type("message")
            assert (frame["room_id"], frame["nonce"], frame["rev"]) == (room_id, "n1", 2)
        await b.send({"type": "typing", "room_id": room_id})
        assert (await a.recv_type("typing"))["room_id"] == room_id
        await a.send({"type": "typing"})
        typing = await b.recv_type("typing")
        assert (typing["room_id"], typing["user"]) == (room_id, ada.summary)


async def test_one_frame_subscribes_many_rooms(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await signup(http, "ada")
    rooms = [(await create_room(http, ada))["id"] for _ in range(3)]
    await send(http, ada, rooms[1], "in the second")
    async with multiplexed(live_server, ada) as client:
        await client.send(
            {
                "type": "subscribe",
                "rooms": [{"room_id": rooms[0]}, {"room_id": rooms[1], "since": 0}, {"room_id": rooms[2]}],
            }
        )
        frames = [await client.recv() for _ in range(6)]
        assert [(f["type"], f["room_id"]) for f in frames] == [
            (kind, room) for room in rooms for kind in ("history", "presence")
        ]
        assert [m["body"] for m in frames[2]["messages"]] == ["in the second"]
        await send(http, ada, rooms[2], "live")
        assert (await client.recv_type("message"))["room_id"] == rooms[2]


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "subscribe"},
        {"type": "subscribe", "room_id": [1]},
        {"type": "subscribe", "room_id": True},
        {"type": "subscribe", "rooms": []},
        {"type": "subscribe", "rooms": {"room_id": 1}},
        {"type": "subscribe", "rooms": [{"room_id": 1}] * 101},
        {"type": "subscribe", "rooms": [1, 2]},
        {"type": "subscribe", "rooms": [{"since": 1}]},
        {"type": "unsubscribe"},
        {"type": "unsubscribe", "room_id": None},
        {"type": "message", "body": "no room"},
        {"type": "typing"},
        {"type": "message", "room_id": {"a": 1}, "body": "x"},
    ],
)
async def test_malformed_frames_get_invalid_frame(
    live_server: LiveServer, http: httpx.AsyncClient, frame: dict[str, Any]
) -> None:
    ada = await signup(http, "ada")
    async with multiplexed(live_server, ada) as client:
        await client.send(frame)
        error = await client.recv()
        assert (error["type"], error["code"]) == ("error", "invalid_frame"), error
        await client.send({"type": "ping"})
        assert await client.recv() == {"type": "pong"}


async def test_refused_subscriptions_say_why_and_the_connection_stays(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, eve = await signup(http, "ada"), await signup(http, "bob"), await signup(http, "eve")
    public = (await create_room(http, ada))["id"]
    private = (await create_room(http, ada, private=True))["id"]
    banned = (await create_room(http, ada))["id"]
    await join(http, eve, banned)
    assert (
        await http.post(f"/api/rooms/{banned}/bans", json={"user_id": eve.id}, headers=ada.headers)
    ).status_code == 201
    await join(http, bob, public)
    cases: list[tuple[dict[str, Any], Any, str]] = [
        ({"room_id": 999_999}, 999_999, "room_not_found"),
        ({"room_id": "abc"}, "abc", "room_not_found"),
        ({"room_id": private}, private, "room_not_found"),
        ({"room_id": public}, public, "not_member"),
        ({"room_id": banned}, banned, "banned"),
    ]
    async with multiplexed(live_server, eve) as client:
        for request, echoed, reason in cases:
            await client.send({"type": "subscribe", **request})
            assert await client.recv() == {"type": "unsubscribed", "room_id": echoed, "reason": reason}
        await client.send({"type": "ping"})
        assert await client.recv() == {"type": "pong"}
    async with multiplexed(live_server, bob) as client:
        for position in (
            {"since": -1},
            {"since_rev": "3"},
            {"since": True},
            {"since": 1, "since_rev": 1},
            {"since": 1.5},
        ):
            await client.send({"type": "subscribe", "room_id": public, **position})
            assert await client.recv() == {
                "type": "unsubscribed",
                "room_id": public,
                "reason": "invalid_parameter",
            }


async def test_unsubscribing_stops_a_rooms_frames(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, bob, room_id = await pair_in_room(http)
    async with multiplexed(live_server, bob) as client:
        await client.subscribe(room_id)
        await client.send({"type": "unsubscribe", "room_id": room_id})
        assert await client.recv() == {"type": "unsubscribed", "room_id": room_id, "reason": "unsubscribed"}
        await client.send({"type": "unsubscribe", "room_id": room_id})  # not subscribed: the same answer
        assert await client.recv() == {"type": "unsubscribed", "room_id": room_id, "reason": "unsubscribed"}
        await send(http, ada, room_id, "unheard")
        activity = await client.recv()  # bob now only hears that something happened
        assert (activity["type"], activity["room_id"], activity["seq"]) == ("activity", room_id, 1)
        await client.send({"type": "message", "room_id": room_id, "body": "x", "nonce": "n"})
        error = await client.recv()
        assert (error["code"], error["room_id"], error["nonce"]) == ("not_subscribed", room_id, "n")


async def test_subscribing_again_starts_the_room_over(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    await send(http, ada, room_id, "one")
    async with joined(live_server, ada, room_id) as a, multiplexed(live_server, bob) as b:
        await b.subscribe(room_id)
        await a.recv_type("join")
        history, _ = await b.subscribe(room_id, since_rev=0)
        assert [m["seq"] for m in history["messages"]] == [1]
        await a.expect_silence()  # no leave and join for a re-subscribe
        await send(http, ada, room_id, "two")
        assert (await b.recv_type("message"))["message"]["seq"] == 2
        await b.expect_silence()  # delivered once, not once per subscribe
        # A refused re-subscribe ends the old subscription.
        await b.send({"type": "subscribe", "room_id": room_id, "since": -5})
        assert await b.recv() == {"type": "unsubscribed", "room_id": room_id, "reason": "invalid_parameter"}
        assert (await a.recv_type("leave"))["user"] == bob.summary


@pytest.mark.parametrize(
    ("action", "reason"),
    [("kick", "removed"), ("leave", "left"), ("ban", "banned"), ("delete", "room_deleted")],
)
async def test_losing_access_ends_the_subscription_not_the_connection(
    live_server: LiveServer, http: httpx.AsyncClient, action: str, reason: str
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    other = (await create_room(http, ada))["id"]
    await join(http, bob, other)
    async with multiplexed(live_server, bob) as client:
        await client.subscribe(room_id)
        await client.subscribe(other)
        requests = {
            "kick": ("DELETE", f"/api/rooms/{room_id}/members/{bob.id}", ada, None),
            "leave": ("POST", f"/api/rooms/{room_id}/leave", bob, None),
            "ban": ("POST", f"/api/rooms/{room_id}/bans", ada, {"user_id": bob.id}),
            "delete": ("DELETE", f"/api/rooms/{room_id}", ada, None),
        }
        method, url, who, body = requests[action]
        response = await http.request(method, url, json=body, headers=who.headers)
        assert response.status_code < 300, response.text
        frames = [await client.recv_type(kind) for kind in ("unsubscribed", "room_removed")]
        assert frames == [
            {"type": "unsubscribed", "room_id": room_id, "reason": reason},
            {"type": "room_removed", "room_id": room_id, "reason": reason},
        ]
        await send(http, ada, other, "still here")
        assert (await client.recv_type("message"))["room_id"] == other


async def test_user_frames_follow_memberships(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, bob = await signup(http, "ada"), await signup(http, "bob")
    async with multiplexed(live_server, ada) as a, multiplexed(live_server, bob) as b:
        room = await create_room(http, ada)
        added = await a.recv()
        assert (added["type"], added["room"]["id"], added["role"]) == ("room_added", room["id"], "owner")
        await join(http, bob, room["id"])
        joined_frame = await b.recv()
        assert (joined_frame["type"], joined_frame["role"]) == ("room_added", "member")
        assert joined_frame["room"]["member_count"] == 2
        await join(http, bob, room["id"])  # a repeated join sends nothing
        await b.expect_silence()
        private = await create_room(http, ada, private=True)
        await a.recv_type("room_added")
        await invite(http, ada, private["id"], bob, role="admin")
        invited = await b.recv()
        assert (invited["type"], invited["room"]["id"], invited["role"]) == (
            "room_added",
            private["id"],
            "admin",
        )
        renamed = await http.patch(f"/api/rooms/{room['id']}", json={"name": "renamed"}, headers=ada.headers)
        assert renamed.status_code == 200
        for client, role in ((a, "owner"), (b, "member")):
            updated = await client.recv_type("room_updated")
            assert (updated["room"]["name"], updated["role"]) == ("renamed", role)
        await http.patch(
            f"/api/rooms/{room['id']}/members/{bob.id}", json={"role": "admin"}, headers=ada.headers
        )
        promoted = await b.recv_type("room_updated")
        assert (promoted["room"]["id"], promoted["role"]) == (room["id"], "admin")
        await a.expect_silence()  # a role change is news to the member only


async def test_activity_reaches_members_who_have_not_subscribed(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    async with multiplexed(live_server, bob) as watching, multiplexed(live_server, bob) as reading:
        await reading.subscribe(room_id)
        message = await send(http, ada, room_id, "news")
        assert await watching.recv() == {
            "type": "activity",
            "room_id": room_id,
            "seq": message["seq"],
            "author": ada.summary,
            "mention": False,
        }
        assert (await reading.recv_type("message"))["message"]["seq"] == message["seq"]
        await reading.expect_silence()  # a subscriber gets the message, not also its activity
        # Edits are no activity.
        await http.patch(f"/api/rooms/{room_id}/messages/1", json={"body": "n"}, headers=ada.headers)
        await watching.expect_silence()
        # The author's own send reaches their other connections as activity too.
        async with multiplexed(live_server, ada) as ada_elsewhere:
            await send(http, ada, room_id, "mine")
            own = await ada_elsewhere.recv()
            assert (own["type"], own["author"]) == ("activity", ada.summary)


async def test_a_connection_holds_at_most_its_subscriptions(
    live_server: LiveServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.realtime.session.MAX_SUBSCRIPTIONS", 2)
    ada = await signup(http, "ada")
    rooms = [(await create_room(http, ada))["id"] for _ in range(3)]
    async with multiplexed(live_server, ada) as client:
        await client.subscribe(rooms[0])
        await client.subscribe(rooms[1])
        await client.send({"type": "subscribe", "room_id": rooms[2]})
        assert await client.recv() == {
            "type": "unsubscribed",
            "room_id": rooms[2],
            "reason": "too_many_subscriptions",
        }
        await client.subscribe(rooms[1])  # subscribing again to one it has is no new subscription


async def test_error_frames_name_the_room_of_the_frame(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    async with multiplexed(live_server, ada) as client:
        await client.subscribe(room_id)
        await client.send({"type": "message", "room_id": room_id, "body": "   ", "nonce": "e"})
        assert await client.recv() == {
            "type": "error",
            "code": "empty_body",
            "detail": "body must not be empty",
            "nonce": "e",
            "room_id": room_id,
        }
        await client.send({"type": "dance", "room_id": room_id})
        unknown = await client.recv()
        assert (unknown["code"], unknown["room_id"]) == ("unknown_type", room_id)


async def test_the_frame_cap_echoes_the_refused_sends_nonce(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    async with multiplexed(live_server, ada) as client:
        await client.subscribe(room_id)
        for index in range(60):
            await client.send({"type": "message", "room_id": room_id, "body": "x", "nonce": f"cap-{index}"})
        refusals = []
        with contextlib.suppress(TimeoutError):
            while True:
                frame = await client.recv(timeout=1)
                if frame["type"] == "error":
                    refusals.append(frame)
        assert refusals, "the frame cap never refused"
        assert all(r["code"] == "rate_limited" and r["nonce"].startswith("cap-") for r in refusals)
        assert all(r["room_id"] == room_id for r in refusals)


async def test_room_sockets_do_not_take_subscriptions(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    async with joined(live_server, ada, room_id) as client:
        await client.send({"type": "subscribe", "room_id": room_id})
        assert (await client.recv())["code"] == "unknown_type"


async def test_a_room_socket_is_not_sent_user_frames(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    async with joined(live_server, ada, room_id) as client:
        await create_room(http, ada)
        await client.expect_silence()


async def test_a_member_kicked_and_back_subscribes_again_on_the_same_connection(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    async with multiplexed(live_server, bob) as client:
        await client.subscribe(room_id)
        await http.delete(f"/api/rooms/{room_id}/members/{bob.id}", headers=ada.headers)
        assert (await client.recv_type("unsubscribed"))["reason"] == "removed"
        await join(http, bob, room_id)
        await client.subscribe(room_id)  # the kick before it does not end this one
        await send(http, ada, room_id, "welcome back")
        assert (await client.recv_type("message"))["message"]["body"] == "welcome back"
