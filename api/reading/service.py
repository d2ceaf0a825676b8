"""Read state: each member's read cursor, what is unread above it, and mentions.

Counting is cheap by construction. A member's own messages are never above their cursor
(sending moves it to the message), so `unread` is the seqs above the cursor minus the
deleted ones among them (a small partial index), and `mentions` counts the member's rows
in `message_mentions` above it (rows go when their message is deleted, and none is kept
for mentioning oneself). A person in hundreds of rooms costs two index probes per room,
however many messages they have not read.
"""

from __future__ import annotations

from sqlalchemy import ScalarSelect, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import Database
from api.errors import Forbidden, NotFound
from api.messages import service as messages
from api.messages.models import Message, MessageMention
from api.reading.schemas import MentionsPage, MyRoom, ReadState
from api.rooms import service as rooms
from api.rooms.models import Membership, Role, Room

ROOM_NOT_FOUND = "Room not found"


def _deleted_above(read_seq: object) -> ScalarSelect[int]:
    return (
        select(func.count())
        .where(Message.room_id == Room.id, Message.seq > read_seq, Message.deleted_at.is_not(None))
        .scalar_subquery()
    )


def _mentions_above(user_id: int, read_seq: object) -> ScalarSelect[int]:
    return (
        select(func.count())
        .where(
            MessageMention.user_id == user_id,
            MessageMention.room_id == Room.id,
            MessageMention.seq > read_seq,
        )
        .scalar_subquery()
    )


async def read_state(session: AsyncSession, *, room_id: int, user_id: int) -> ReadState:
    row = (
        await session.execute(
            select(
                Membership.read_seq,
                Room.last_seq,
                _deleted_above(Membership.read_seq),
                _mentions_above(user_id, Membership.read_seq),
            )
            .join(Room, Room.id == Membership.room_id)
            .where(Membership.room_id == room_id, Membership.user_id == user_id)
        )
    ).first()
    if row is None:
        raise Forbidden("Members only")
    read_seq, last_seq, deleted, mentioned = row
    return ReadState(
        room_id=room_id, read_seq=read_seq, unread=last_seq - read_seq - deleted, mentions=mentioned
    )


async def mark_read(*, db: Database, room_id: int, user_id: int, seq: int) -> tuple[ReadState, bool]:
    """Move the cursor up to `seq` (never back, never past the room's newest message); the
    state after, and whether the cursor moved."""
    async with db.writing() as session:
        last_seq = await session.scalar(select(Room.last_seq).where(Room.id == room_id))
        if last_seq is None:
            raise NotFound(ROOM_NOT_FOUND)
        target = min(seq, last_seq)
        # Conditional, so two moves at once can never take the cursor back.
        moved = await session.execute(
            update(Membership)
            .where(Membership.room_id == room_id, Membership.user_id == user_id, Membership.read_seq < target)
            .values(read_seq=target)
        )
        state = await read_state(session, room_id=room_id, user_id=user_id)
    return state, bool(moved.rowcount)  # type: ignore[attr-defined]


async def my_rooms(session: AsyncSession, *, user_id: int) -> list[MyRoom]:
    """Every room the user belongs to, with its read state, newest activity first: the time of
    its newest message (deleted ones too), or its creation."""
    newest_at = (
        select(Message.created_at)
        .where(Message.room_id == Room.id, Message.seq == Room.last_seq)
        .scalar_subquery()
    )
    active_at = case((Room.last_seq > 0, newest_at), else_=Room.created_at)
    rows = await session.execute(
        select(
            Room,
            rooms.member_count(),
            Membership.role,
            Membership.read_seq,
            _deleted_above(Membership.read_seq),
            _mentions_above(user_id, Membership.read_seq),
        )
        .join(Membership, Membership.room_id == Room.id)
        .where(Membership.user_id == user_id)
        .order_by(active_at.desc(), Room.id.desc())
    )
    return [
        MyRoom(
            room=rooms.public(room, count),
            role=Role(role),
            read_seq=read_seq,
            unread=room.last_seq - read_seq - deleted,
            mentions=mentioned,
        )
        for room, count, role, read_seq, deleted, mentioned in rows.all()
    ]


async def my_mentions(session: AsyncSession, *, user_id: int, before: int | None, limit: int) -> MentionsPage:
    """Messages by others, not deleted, that mention the user, in rooms they belong to; newest
    first, keyset-paged by message id."""
    query = (
        messages.select_payloads()
        .join(MessageMention, MessageMention.message_id == Message.id)
        .join(Membership, (Membership.room_id == Message.room_id) & (Membership.user_id == user_id))
        .where(MessageMention.user_id == user_id, Message.deleted_at.is_(None))
        .order_by(Message.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(Message.id < before)
    rows = (await session.execute(query)).all()
    page = [messages.payload(row) for row in rows[:limit]]
    return MentionsPage.model_validate({"messages": page, "has_more": len(rows) > limit})
