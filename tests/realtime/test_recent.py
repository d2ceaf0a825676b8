"""Recent messages: history frames served from what the room's channel delivered must be exactly
what the database would have given, or nothing."""

from __future__ import annotations

import random
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.realtime.protocol import edit_frame, message_frame, payload_of
from api.realtime.recent import RecentMessages, apply_reaction, mark_deleted
from tests.factories import send
from tests.realtime.client import joined, pair_in_room
from tests.servers import LiveServer


class Room:
    """The database's truth for one room: every message in its current state."""

    def __init__(self) -> None:
        self.messages: dict[int, dict[str, Any]] = {}
        self.last_rev = 0

    @property
    def last_seq(self) -> int:
        return len(self.messages)

    def history(
        self, *, since: int | None, since_rev: int | None, newest: int, replay: int
    ) -> tuple[list[int], bool]:
        """(revs of the messages sent, truncated), as messages.service.snapshot reads them."""
        if since_rev is not None:
            changed = sorted(m["rev"] for m in self.messages.values() if m["rev"] > since_rev)
            return changed[:replay], len(changed) > replay
        after = [m for seq, m in sorted(self.messages.items()) if seq > (since or 0)]
        page = after[-(replay if since is not None else newest) :]
        return [m["rev"] for m in page], len(after) > len(page)


def payload(seq: int, rev: int) -> dict[str, Any]:
    return {"seq": seq, "rev": rev, "body": f"m{seq}", "deleted": False, "mentions": [], "reactions": []}


def step(room: Room, recent: RecentMessages, rng: random.Random) -> None:
    """One random change, made to the truth and told to the recent messages as the hub would."""
    room.last_rev += 1
    rev = room.last_rev
    choice = rng.random()
    if not room.messages or choice < 0.45:
        seq = room.last_seq + 1
        room.messages[seq] = payload(seq, rev)
        recent.added(seq, rev, orjson.dumps(room.messages[seq]))
        return
    seq = rng.randint(1, room.last_seq)
    message = room.messages[seq]
    if choice < 0.65:
        message.update(body=f"m{seq} at {rev}", rev=rev)
        recent.replaced(seq, rev, orjson.dumps(message))
    elif choice < 0.75:
        mark_deleted(message)
        message["rev"] = rev
        recent.changed(seq, rev, mark_deleted)
    else:
        emoji, user, added = rng.choice("ab"), rng.randint(1, 3), rng.random() < 0.7
        apply_reaction(emoji, user, added, message)
        message["rev"] = rev
        recent.changed(seq, rev, lambda m: apply_reaction(emoji, user, added, m))


@pytest.mark.parametrize("seed", range(12))
def test_what_recent_messages_answer_is_what_the_database_holds(seed: int) -> None:
    rng = random.Random(seed)
    room = Room()
    for _ in range(rng.randint(0, 30)):  # messages before this worker followed the room
        step(room, RecentMessages(0, next_seq=1, last_rev=0), rng)
    recent = RecentMessages(rng.choice((5, 20, 200)), next_seq=room.last_seq + 1, last_rev=room.last_rev)
    answered = 0
    for _ in range(150):
        step(room, recent, rng)
        if rng.random() < 0.05:  # a join read from the database, at exactly this rev
            tail = sorted(room.messages.items())[-rng.randint(1, 40) :]
            recent.seed(
                [orjson.dumps(m) for _, m in tail], first_seq=tail[0][0], revs=[m["rev"] for _, m in tail]
            )
        since = rng.choice((None, None, rng.randint(0, room.last_seq + 3)))
        since_rev = None if since is not None or rng.random() < 0.5 else rng.randint(0, room.last_rev + 3)
        replay, newest = rng.choice(((1000, 50), (7, 5)))
        found = recent.history(
            last_seq=room.last_seq, since=since, since_rev=since_rev, newest=newest, replay=replay
        )
        if found is None:
            continue
        answered += 1
        fragments, truncated = found
        served = [orjson.loads(orjson.dumps(fragment)) for fragment in fragments]
        expected_revs, expected_truncated = room.history(
            since=since, since_rev=since_rev, newest=newest, replay=replay
        )
        assert [m["rev"] for m in served] == expected_revs
        assert truncated == expected_truncated
        by_rev = {m["rev"]: m for m in room.messages.values()}
        assert served == [by_rev[rev] for rev in expected_revs]  # in their current state, exactly
    assert answered > 20  # it does answer, often


def test_a_seed_extends_what_is_known_backwards() -> None:
    room = Room()
    rng = random.Random(99)
    for _ in range(40):
        step(room, RecentMessages(0, next_seq=1, last_rev=0), rng)
    recent = RecentMessages(100, next_seq=room.last_seq + 1, last_rev=room.last_rev)
    assert recent.history(last_seq=room.last_seq, since=None, since_rev=None, newest=10, replay=1000) is None
    seeded = sorted(room.messages.items())[-10:]
    recent.seed(
        [orjson.dumps(m) for _, m in seeded], first_seq=seeded[0][0], revs=[m["rev"] for _, m in seeded]
    )
    found = recent.history(last_seq=room.last_seq, since=None, since_rev=None, newest=10, replay=1000)
    assert found is not None
    assert [orjson.loads(orjson.dumps(f))["seq"] for f in found[0]] == [seq for seq, _ in seeded]
    # Older than the seed is still unknown.
    assert recent.history(last_seq=room.last_seq, since=None, since_rev=None, newest=11, replay=1000) is None


async def test_a_second_join_gets_the_same_history_without_the_database(
    live_server: LiveServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    for index in range(6):
        await send(http, ada, room_id, f"message {index}")
    async with joined(live_server, bob, room_id) as first:  # read from the database, kept
        await http.patch(
            f"/api/rooms/{room_id}/messages/2", json={"body": "two, edited"}, headers=ada.headers
        )
        await http.put(f"/api/rooms/{room_id}/messages/3/reactions/%F0%9F%91%8D", headers=bob.headers)
        await http.delete(f"/api/rooms/{room_id}/messages/4", headers=ada.headers)
        await send(http, ada, room_id, "after the first join")
        await first.recv_type("message")
    reads: list[int] = []
    snapshot = live_server.app.state.context.hub  # type: ignore[union-attr]
    original = type(snapshot).recent_history

    def counted(self: Any, room: int, **kwargs: Any) -> Any:
        found = original(self, room, **kwargs)
        reads.append(found is not None)
        return found

    monkeypatch.setattr(type(snapshot), "recent_history", counted)
    async with (
        joined(live_server, ada, room_id) as second,
        joined(live_server, ada, room_id, since_rev=3) as third,
    ):
        assert reads == [True, True]  # both from the recent messages
        page = (await http.get(f"/api/rooms/{room_id}/messages", headers=ada.headers)).json()
        assert second.history is not None and second.history["messages"] == page["messages"]
        changes = (
            await http.get(f"/api/rooms/{room_id}/changes", params={"after_rev": 3}, headers=ada.headers)
        ).json()
        assert third.history is not None and third.history["messages"] == changes["messages"]
        assert third.history["last_rev"] == changes["last_rev"]


HOSTILE_TEXT = st.sampled_from(
    ['","nonce":"x', ',"rev":1}', '"},"nonce":null,"rev":9}', "\u2028\u2029", "\\", '\\"', "\x00"]
) | st.text(max_size=40)


@settings(max_examples=200, deadline=None)
@given(body=HOSTILE_TEXT, nonce=st.none() | HOSTILE_TEXT, name=HOSTILE_TEXT)
def test_the_message_in_a_frame_is_found_whatever_its_text(body: str, nonce: str | None, name: str) -> None:
    message = {
        "id": 3,
        "room_id": 7,
        "seq": 3,
        "rev": 5,
        "author": {"id": 1, "username": "ada", "display_name": name},
        "body": body,
        "reactions": [{"emoji": name or "x", "count": 1, "users": [1]}],
    }
    for frame in (message_frame(message, nonce), edit_frame(message)):
        assert orjson.loads(payload_of(frame)) == message
