"""The writer's batches: one transaction for many sends, with every send getting its own
outcome when the batch mixes the usual (new messages from members) with the unusual."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from api.auth.schemas import UserSummary
from api.errors import Forbidden
from api.messages.writer import InvalidReply, Stored
from tests.factories import create_room, send
from tests.rooms.helpers import NewAccount, add_members, context_of


def summary(account: object) -> UserSummary:
    return UserSummary(id=account.id, username=account.username, display_name=account.username)  # type: ignore[attr-defined]


async def test_a_mixed_batch_gives_each_send_its_outcome_and_no_seq_is_lost(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada, bob, eve = await new_account(), await new_account(), await new_account()
    room_id = (await create_room(client, ada))["id"]
    other = (await create_room(client, ada))["id"]
    await add_members(app, room_id, [bob])
    await send(client, ada, room_id, "already here", nonce="old")
    writer = context_of(app).writer
    sends = [
        writer.enqueue(room_id=room_id, author=summary(ada), body="one", nonce="a"),
        writer.enqueue(room_id=room_id, author=summary(eve), body="not a member", nonce="e"),
        writer.enqueue(room_id=room_id, author=summary(bob), body="reply", nonce="b", reply_to=1),
        writer.enqueue(room_id=room_id, author=summary(ada), body="again", nonce="old"),
        writer.enqueue(room_id=room_id, author=summary(bob), body="bad reply", nonce="c", reply_to=99),
        writer.enqueue(room_id=other, author=summary(ada), body="elsewhere", nonce="o"),
        writer.enqueue(room_id=room_id, author=summary(ada), body="one", nonce="a"),  # repeated in the batch
    ]
    outcomes = await asyncio.gather(*sends, return_exceptions=True)
    one, not_member, reply, again, bad_reply, elsewhere, repeated = outcomes
    assert isinstance(one, Stored) and one.created and one.message.seq == 2
    assert isinstance(not_member, Forbidden)
    assert isinstance(reply, Stored) and (reply.message.seq, reply.message.reply_to) == (3, 1)
    assert isinstance(again, Stored) and not again.created and again.message.seq == 1
    assert isinstance(bad_reply, InvalidReply)
    assert isinstance(elsewhere, Stored) and elsewhere.message.seq == 1
    assert isinstance(repeated, Stored) and not repeated.created and repeated.message.seq == 2
    page = (await client.get(f"/api/rooms/{room_id}/messages", headers=ada.headers)).json()
    assert [(m["seq"], m["rev"], m["body"]) for m in page["messages"]] == [
        (1, 1, "already here"),
        (2, 2, "one"),
        (3, 3, "reply"),
    ]
    room = (await client.get(f"/api/rooms/{room_id}", headers=ada.headers)).json()
    assert (room["last_seq"], room["last_rev"]) == (3, 3)


async def test_a_reply_may_name_an_earlier_message_of_the_same_batch(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account()
    room_id = (await create_room(client, ada))["id"]
    writer = context_of(app).writer
    first = writer.enqueue(room_id=room_id, author=summary(ada), body="question", nonce="q")
    second = writer.enqueue(room_id=room_id, author=summary(ada), body="answer", nonce="r", reply_to=1)
    stored = await asyncio.gather(first, second)
    assert [(s.message.seq, s.message.reply_to) for s in stored] == [(1, None), (2, 1)]
