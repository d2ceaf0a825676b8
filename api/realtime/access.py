"""Who may follow a room live: admission of a subscription (or a room socket), and the check
of every open connection after this worker could not hear of changes (a broker outage)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.models import User
from api.ids import parse_id
from api.realtime.connection import api_token_of
from api.realtime.hub import ConnectionView, Verdict
from api.realtime.protocol import (
    ACCOUNT_DISABLED,
    BANNED,
    NOT_MEMBER,
    REMOVED,
    ROOM_DELETED,
    ROOM_NOT_FOUND,
    TOKEN_REVOKED,
    CloseReason,
)
from api.rooms.models import Membership, Room, RoomBan
from api.rooms.service import rooms_public
from api.tokens.service import revoked_among


async def admit(
    session: AsyncSession, *, user_id: int, room_refs: Sequence[object]
) -> list[int | CloseReason]:
    """For each room named, its id when `user_id` may subscribe to it, else the refusal a room
    socket would close with. One query however many rooms are named."""
    ids = [parse_id(ref) if isinstance(ref, int | str) else None for ref in room_refs]
    wanted = {room_id for room_id in ids if room_id is not None}
    found: dict[int, tuple[bool, bool, bool]] = {}
    if wanted:
        rows = await session.execute(
            select(Room.id, Room.is_private, Membership.user_id, RoomBan.user_id)
            .outerjoin(Membership, (Membership.room_id == Room.id) & (Membership.user_id == user_id))
            .outerjoin(RoomBan, (RoomBan.room_id == Room.id) & (RoomBan.user_id == user_id))
            .where(Room.id.in_(wanted))
        )
        found = {
            room_id: (private, member is not None, banned is not None)
            for room_id, private, member, banned in rows
        }
    return [_admission(room_id, found.get(room_id) if room_id is not None else None) for room_id in ids]


def _admission(room_id: int | None, state: tuple[bool, bool, bool] | None) -> int | CloseReason:
    if room_id is None or state is None:
        return ROOM_NOT_FOUND
    private, member, banned = state
    if member:
        return room_id
    if private:  # site admins see private rooms, but only members take part
        return ROOM_NOT_FOUND
    return BANNED if banned else NOT_MEMBER


async def recheck(session: AsyncSession, views: Sequence[ConnectionView]) -> list[Verdict]:
    """What each connection lost or gained, as the database has it now."""
    user_ids = {view.user_id for view in views}
    rows = await session.execute(
        select(User.id, User.tokens_valid_after).where(User.id.in_(user_ids), User.is_active)
    )
    valid_after: dict[int, datetime | None] = dict(rows.all())
    active = set(valid_after)
    revoked = await _revoked_credentials(session, views, valid_after)
    memberships: dict[int, dict[int, str]] = {user_id: {} for user_id in user_ids}
    for user_id, room_id, role in await session.execute(
        select(Membership.user_id, Membership.room_id, Membership.role).where(
            Membership.user_id.in_(user_ids)
        )
    ):
        memberships[user_id][room_id] = role
    followed = {room_id for view in views for room_id in view.subscribed | view.watching}
    existing = set(await session.scalars(select(Room.id).where(Room.id.in_(followed))))
    bans = {
        (user_id, room_id)
        for user_id, room_id in await session.execute(
            select(RoomBan.user_id, RoomBan.room_id).where(RoomBan.user_id.in_(user_ids))
        )
    }
    gained = {
        room_id
        for view in views
        if view.multiplexed and view.user_id in active
        for room_id in memberships[view.user_id].keys() - view.watching
    }
    rooms = await rooms_public(session, gained) if gained else {}

    def lost(user_id: int, room_id: int) -> CloseReason:
        if room_id not in existing:
            return ROOM_DELETED
        return BANNED if (user_id, room_id) in bans else REMOVED

    verdicts = []
    for view, credential_revoked in zip(views, revoked, strict=True):
        mine = memberships[view.user_id]
        if view.user_id not in active:
            verdicts.append(Verdict(close=ACCOUNT_DISABLED))
            continue
        if credential_revoked:
            verdicts.append(Verdict(close=TOKEN_REVOKED))
            continue
        verdict = Verdict(
            ended={room: lost(view.user_id, room) for room in view.subscribed if room not in mine}
        )
        if view.multiplexed:
            verdict.removed = {
                room: lost(view.user_id, room).reason for room in view.watching if room not in mine
            }
            verdict.added = [
                (rooms[room].model_dump(mode="json"), mine[room])
                for room in mine.keys() - view.watching
                if room in rooms
            ]
        verdicts.append(verdict)
    return verdicts


async def _revoked_credentials(
    session: AsyncSession, views: Sequence[ConnectionView], valid_after: dict[int, datetime | None]
) -> list[bool]:
    """For each connection, whether its credential stopped working: an API token revoked, or
    a login token issued before its user's logout-all (or deactivation)."""
    token_ids = [api_token_of(view.credential) for view in views]
    gone = await revoked_among(session, {token_id for token_id in token_ids if token_id is not None})
    revoked = []
    for view, token_id in zip(views, token_ids, strict=True):
        if token_id is not None:
            revoked.append(token_id in gone)
            continue
        after = valid_after.get(view.user_id)
        revoked.append(after is not None and (view.issued_at is None or view.issued_at < after))
    return revoked
