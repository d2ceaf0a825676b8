"""Reading history and changing stored messages. New messages go through `MessageWriter`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.models import User
from api.db import Database, utcnow
from api.errors import Conflict, Forbidden, NotFound
from api.ids import MAX_SEQ, parse_id
from api.messages.models import Message
from api.messages.revs import ROOM_NOT_FOUND, lock_room, take_rev
from api.rooms.models import Role, Room
from api.rooms.service import RoomAccess

MESSAGE_NOT_FOUND = "Message not found"


Payload = dict[str, Any]
"""A message as MessagePublic serializes it, read straight from columns: history pages, history
frames, changes and gap fills all go through `_select`/`_payload`, one read path, without ORM
objects or models (replaying a thousand messages to a joining client is on the path people
wait on)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a joining client gets, all read in one snapshot: `last_rev` is exactly the rev the
    messages are current as of, so live changes after it are new and none before it is."""

    messages: list[Payload]
    last_seq: int
    last_rev: int
    truncated: bool


async def _page(
    session: AsyncSession,
    *,
    room_id: int,
    condition: ColumnElement[bool],
    newest_first: bool,
    limit: int,
) -> tuple[list[Payload], bool]:
    """Up to `limit` messages matching `condition` from one end, ascending seq, and whether more
    lie beyond. Each is one range scan of the (room_id, seq) index."""
    order = Message.seq.desc() if newest_first else Message.seq.asc()
    rows = (
        await session.execute(
            _select().where(Message.room_id == room_id, condition).order_by(order).limit(limit + 1)
        )
    ).all()
    page = [_payload(row) for row in rows[:limit]]
    if newest_first:
        page.reverse()
    return page, len(rows) > limit


async def newest(
    session: AsyncSession, *, room_id: int, limit: int, after: int = 0
) -> tuple[list[Payload], bool]:
    """The newest `limit` with seq > `after`, and whether older ones (newer than `after`) exist."""
    return await _page(
        session, room_id=room_id, condition=Message.seq > after, newest_first=True, limit=limit
    )


async def before(session: AsyncSession, *, room_id: int, seq: int, limit: int) -> tuple[list[Payload], bool]:
    return await _page(session, room_id=room_id, condition=Message.seq < seq, newest_first=True, limit=limit)


async def after(session: AsyncSession, *, room_id: int, seq: int, limit: int) -> tuple[list[Payload], bool]:
    return await _page(session, room_id=room_id, condition=Message.seq > seq, newest_first=False, limit=limit)


async def changes(
    session: AsyncSession, *, room_id: int, after_rev: int, limit: int
) -> tuple[list[tuple[Payload, str | None]], bool]:
    """Every message whose rev is above `after_rev`, once, in its current state, ascending rev,
    with its nonce; and whether more lie beyond. One range scan of the (room_id, rev) index."""
    rows = (
        await session.execute(
            _select()
            .where(Message.room_id == room_id, Message.rev > after_rev)
            .order_by(Message.rev)
            .limit(limit + 1)
        )
    ).all()
    return [(_payload(row), row.nonce) for row in rows[:limit]], len(rows) > limit


async def room_tops(session: AsyncSession, room_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(last_seq, last_rev) of each room that exists."""
    rows = await session.execute(select(Room.id, Room.last_seq, Room.last_rev).where(Room.id.in_(room_ids)))
    return {room_id: (last_seq, last_rev) for room_id, last_seq, last_rev in rows.all()}


async def snapshot(
    session: AsyncSession,
    *,
    room_id: int,
    since: int | None,
    since_rev: int | None,
    newest_count: int,
    replay: int,
) -> Snapshot:
    """A joining client's history: with `since_rev`, the first `replay` changes after it (ascending
    rev); with `since`, the newest `replay` messages after it; else the newest `newest_count`.
    Call it in a snapshot session (`Database.snapshot`)."""
    tops = await room_tops(session, [room_id])
    if room_id not in tops:
        raise NotFound(ROOM_NOT_FOUND)
    last_seq, last_rev = tops[room_id]
    if since_rev is not None:
        found, truncated = await changes(session, room_id=room_id, after_rev=since_rev, limit=replay)
        page = [payload for payload, _ in found]
    else:
        limit = newest_count if since is None else replay
        page, truncated = await newest(session, room_id=room_id, limit=limit, after=since or 0)
    return Snapshot(page, last_seq=last_seq, last_rev=last_rev, truncated=truncated)


def _select() -> Select[*tuple[Any, ...]]:
    return select(*_PAYLOAD_COLUMNS, Message.nonce).join(User, User.id == Message.author_id)


_PAYLOAD_COLUMNS = (
    Message.id,
    Message.room_id,
    Message.seq,
    Message.rev,
    Message.body,
    Message.created_at,
    Message.edited_at,
    Message.deleted_at,
    User.id.label("author_id"),
    User.username,
    User.display_name,
)


def _payload(row: Row[Any]) -> Payload:
    # The fields, and their order, of MessagePublic (tests compare the two).
    return {
        "id": row.id,
        "room_id": row.room_id,
        "seq": row.seq,
        "rev": row.rev,
        "author": {"id": row.author_id, "username": row.username, "display_name": row.display_name},
        "body": row.body,
        "created_at": row.created_at,
        "edited_at": row.edited_at,
        "deleted": row.deleted_at is not None,
    }


async def edit_message(*, db: Database, access: RoomAccess, seq: str, body: str) -> Message:
    if not access.is_member:
        raise Forbidden("Members only")
    async with db.writing() as session:
        # The rev first: it takes the room's turn, so the message read below is the latest.
        rev = await take_rev(session, access.room.id)
        message = await _get(session, access.room.id, seq)
        if message.author_id != access.user.id:
            raise Forbidden("Only the author can edit a message")
        if message.deleted:
            raise Conflict("A deleted message cannot be edited")
        message.body = body
        message.edited_at = utcnow()
        message.rev = rev
        return message


async def delete_message(*, db: Database, access: RoomAccess, seq: str) -> Message | None:
    """Blank a message; it keeps its seq. None when it was deleted already (no change)."""
    async with db.writing() as session:
        await lock_room(session, access.room.id)
        message = await _get(session, access.room.id, seq)
        is_author = message.author_id == access.user.id and access.is_member
        moderator = access.role in (Role.owner, Role.admin) or access.user.is_admin
        if not (is_author or moderator):
            if not access.is_member:
                raise Forbidden("Members only")
            raise Forbidden("Only the author, a room admin or owner, or a site admin can delete it")
        if message.deleted:
            return None
        message.body = ""
        message.deleted_at = utcnow()
        message.rev = await take_rev(session, access.room.id)
        return message


async def _get(session: AsyncSession, room_id: int, raw_seq: str) -> Message:
    seq = parse_id(raw_seq, maximum=MAX_SEQ)
    message = (
        await session.scalar(select(Message).where(Message.room_id == room_id, Message.seq == seq))
        if seq
        else None
    )
    if message is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    return message
