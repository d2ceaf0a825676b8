"""Reading history and changing stored messages. New messages go through `MessageWriter`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit.models import AuditAction
from api.audit.service import record
from api.auth.models import User
from api.db import Database, utcnow
from api.errors import Conflict, Forbidden, NotFound
from api.ids import MAX_SEQ, parse_id
from api.messages import mentions
from api.messages.models import Message, MessageMention
from api.messages.revs import ROOM_NOT_FOUND, lock_room, take_rev
from api.messages.schemas import MessagePublic
from api.rooms.models import Membership, Role, Room
from api.rooms.service import RoomAccess

MESSAGE_NOT_FOUND = "Message not found"
K = TypeVar("K")


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


def public_messages(messages: Sequence[Message | Payload]) -> list[MessagePublic]:
    """Stored messages as REST routes show them (history pages, search results), from rows
    or payloads: the one place to extend when a message gains a field that is not one of its
    columns."""
    return [MessagePublic.model_validate(message) for message in messages]


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


async def one(session: AsyncSession, *, room_id: int, seq: str) -> Payload:
    """One message by its seq (a deleted one too); NotFound for an unknown or malformed seq."""
    parsed = parse_id(seq, maximum=MAX_SEQ)
    row = (
        (
            await session.execute(select_payloads().where(Message.room_id == room_id, Message.seq == parsed))
        ).first()
        if parsed
        else None
    )
    if row is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    return payload(row)


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


def select_payloads() -> Select[*tuple[Any, ...]]:
    """Messages as `payload` reads them (with their nonce), for the caller's conditions."""
    return select(*_PAYLOAD_COLUMNS, Message.nonce).join(User, User.id == Message.author_id)


_select = select_payloads


_PAYLOAD_COLUMNS = (
    Message.id,
    Message.room_id,
    Message.seq,
    Message.rev,
    Message.body,
    Message.created_at,
    Message.edited_at,
    Message.deleted_at,
    Message.reply_to,
    Message.mentions,
    Message.reactions,
    User.id.label("author_id"),
    User.username,
    User.display_name,
)


def payload(row: Sequence[Any]) -> Payload:
    # The fields, and their order, of MessagePublic (tests compare the two). Unpacked by
    # position: on a replay of a thousand rows, attribute access by name costs six times as much.
    (
        message_id,
        room_id,
        seq,
        rev,
        body,
        created_at,
        edited_at,
        deleted_at,
        reply_to,
        mentioned,
        reactions,
        author_id,
        username,
        display_name,
        *_,
    ) = row
    return {
        "id": message_id,
        "room_id": room_id,
        "seq": seq,
        "rev": rev,
        "author": {"id": author_id, "username": username, "display_name": display_name},
        "body": body,
        "created_at": created_at,
        "edited_at": edited_at,
        "deleted": deleted_at is not None,
        "reply_to": reply_to,
        "mentions": mentioned or [],
        "reactions": reactions_payload(reactions),
    }


def reactions_payload(stored: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"emoji": r["emoji"], "count": len(r["users"]), "users": r["users"]} for r in stored or ()]


_payload = payload


async def mentioned_members(session: AsyncSession, bodies: Mapping[K, tuple[int, str]]) -> dict[K, list[int]]:
    """For each (room id, body), the members of the room it mentions, by the caller's key;
    only bodies that mention someone are in the answer. One query, only when some body
    could mention anyone."""
    runs = {key: found for key, (_, body) in bodies.items() if (found := mentions.candidates(body))}
    names = mentions.lookup_keys(run for found in runs.values() for run in found)
    if not names:
        return {}
    rooms = {bodies[key][0] for key in runs}
    members: defaultdict[int, dict[str, int]] = defaultdict(dict)
    rows = await session.execute(
        select(Membership.room_id, User.username_key, User.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.room_id.in_(rooms), User.username_key.in_(names))
    )
    for room_id, name, user_id in rows.all():
        members[room_id][name] = user_id
    resolved = {key: mentions.resolve(found, members[bodies[key][0]]) for key, found in runs.items()}
    return {key: ids for key, ids in resolved.items() if ids}


async def edit_message(*, db: Database, access: RoomAccess, seq: str, body: str) -> Message:
    if not access.is_member:
        raise Forbidden("Members only")
    async with db.writing() as session:
        # The rev first: it takes the room's turn, so the message read below is the latest.
        rev = await take_rev(session, access.room.id)
        message = await get_message(session, access.room.id, seq)
        if message.author_id != access.user.id:
            raise Forbidden("Only the author can edit a message")
        if message.deleted:
            raise Conflict("A deleted message cannot be edited")
        message.body = body
        message.edited_at = utcnow()
        message.rev = rev
        mentioned = (await mentioned_members(session, {0: (access.room.id, body)})).get(0)
        await _replace_mentions(session, message, mentioned)
        return message


async def delete_message(*, db: Database, access: RoomAccess, seq: str) -> Message | None:
    """Blank a message; it keeps its seq. None when it was deleted already (no change)."""
    async with db.writing() as session:
        await lock_room(session, access.room.id)
        message = await get_message(session, access.room.id, seq)
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
        message.reactions = None
        message.rev = await take_rev(session, access.room.id)
        await _replace_mentions(session, message, None)
        if not is_author:
            record(
                session,
                actor_id=access.user.id,
                action=AuditAction.message_delete,
                room_id=access.room.id,
                target_id=message.author_id,
                detail={"seq": message.seq},
            )
        return message


async def _replace_mentions(session: AsyncSession, message: Message, mentioned: list[int] | None) -> None:
    """What the message mentions now: on the message, and in the rows mention counts read."""
    message.mentions = mentioned
    await session.execute(delete(MessageMention).where(MessageMention.message_id == message.id))
    rows = [
        {"user_id": user_id, "room_id": message.room_id, "seq": message.seq, "message_id": message.id}
        for user_id in mentioned or ()
        if user_id != message.author_id
    ]
    if rows:
        await session.execute(insert(MessageMention), rows)


async def get_message(session: AsyncSession, room_id: int, raw_seq: str) -> Message:
    seq = parse_id(raw_seq, maximum=MAX_SEQ)
    message = (
        await session.scalar(select(Message).where(Message.room_id == room_id, Message.seq == seq))
        if seq
        else None
    )
    if message is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    return message
