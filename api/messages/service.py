"""Reading history and changing stored messages. New messages go through `MessageWriter`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.models import User
from api.db import Database, utcnow
from api.errors import Conflict, Forbidden, NotFound
from api.ids import MAX_SEQ, parse_id
from api.messages.models import Message
from api.messages.schemas import MessagePublic
from api.rooms.models import Role
from api.rooms.service import RoomAccess

MESSAGE_NOT_FOUND = "Message not found"


async def _page(
    session: AsyncSession,
    *,
    room_id: int,
    condition: ColumnElement[bool],
    newest_first: bool,
    limit: int,
) -> tuple[list[Message], bool]:
    """Up to `limit` messages matching `condition` from one end, ascending, and whether more
    lie beyond. Each is one range scan of the (room_id, seq) index."""
    order = Message.seq.desc() if newest_first else Message.seq.asc()
    rows = (
        await session.scalars(
            select(Message).where(Message.room_id == room_id, condition).order_by(order).limit(limit + 1)
        )
    ).all()
    page = list(rows[:limit])
    if newest_first:
        page.reverse()
    return page, len(rows) > limit


def public_messages(messages: Sequence[Message]) -> list[MessagePublic]:
    """Stored messages as REST routes show them (history pages, search results): the one
    place to extend when a message gains a field that is not one of its columns."""
    return [MessagePublic.model_validate(message) for message in messages]


async def newest(
    session: AsyncSession, *, room_id: int, limit: int, after: int = 0
) -> tuple[list[Message], bool]:
    """The newest `limit` with seq > `after`, and whether older ones (newer than `after`) exist."""
    return await _page(
        session, room_id=room_id, condition=Message.seq > after, newest_first=True, limit=limit
    )


async def newest_payloads(
    session: AsyncSession, *, room_id: int, limit: int, after: int = 0
) -> tuple[list[dict[str, Any]], bool]:
    """`newest`, as the JSON-ready payloads of MessagePublic, without building ORM objects or
    models: replaying a thousand messages to a joining client is on the path people wait on."""
    rows = (
        await session.execute(
            select(*_PAYLOAD_COLUMNS)
            .join(User, User.id == Message.author_id)
            .where(Message.room_id == room_id, Message.seq > after)
            .order_by(Message.seq.desc())
            .limit(limit + 1)
        )
    ).all()
    page = [_payload(row) for row in rows[:limit]]
    page.reverse()
    return page, len(rows) > limit


_PAYLOAD_COLUMNS = (
    Message.id,
    Message.room_id,
    Message.seq,
    Message.body,
    Message.created_at,
    Message.edited_at,
    Message.deleted_at,
    User.id.label("author_id"),
    User.username,
    User.display_name,
)


def _payload(row: Row[*tuple[Any, ...]]) -> dict[str, Any]:
    # The fields, and their order, of MessagePublic (tests compare the two).
    return {
        "id": row.id,
        "room_id": row.room_id,
        "seq": row.seq,
        "author": {"id": row.author_id, "username": row.username, "display_name": row.display_name},
        "body": row.body,
        "created_at": row.created_at,
        "edited_at": row.edited_at,
        "deleted": row.deleted_at is not None,
    }


async def before(session: AsyncSession, *, room_id: int, seq: int, limit: int) -> tuple[list[Message], bool]:
    return await _page(session, room_id=room_id, condition=Message.seq < seq, newest_first=True, limit=limit)


async def after(session: AsyncSession, *, room_id: int, seq: int, limit: int) -> tuple[list[Message], bool]:
    return await _page(session, room_id=room_id, condition=Message.seq > seq, newest_first=False, limit=limit)


async def between(session: AsyncSession, *, room_id: int, first: int, last: int) -> Sequence[Message]:
    """Messages with first <= seq <= last, ascending: what fills a gap in live delivery."""
    return (
        await session.scalars(
            select(Message)
            .where(Message.room_id == room_id, Message.seq >= first, Message.seq <= last)
            .order_by(Message.seq)
        )
    ).all()


async def edit_message(*, db: Database, access: RoomAccess, seq: str, body: str) -> Message:
    if not access.is_member:
        raise Forbidden("Members only")
    async with db.writing() as session:
        message = await _get(session, access.room.id, seq)
        if message.author_id != access.user.id:
            raise Forbidden("Only the author can edit a message")
        if message.deleted:
            raise Conflict("A deleted message cannot be edited")
        message.body = body
        message.edited_at = utcnow()
        return message


async def delete_message(*, db: Database, access: RoomAccess, seq: str) -> Message | None:
    """Blank a message; it keeps its seq. None when it was deleted already."""
    async with db.writing() as session:
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
