"""The database reads the hub needs: a room's newest seq, and messages to fill a gap."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from api.db import Database
from api.messages import service as messages
from api.messages.schemas import MessagePublic
from api.realtime.hub import MessageSource
from api.rooms.models import Room


def database_source(db: Database) -> MessageSource:
    async def last_seq(room_id: int) -> int | None:
        async with db.session() as session:
            return await session.scalar(select(Room.last_seq).where(Room.id == room_id))

    async def between(room_id: int, first: int, last: int) -> Sequence[tuple[MessagePublic, str | None]]:
        async with db.session() as session:
            found = await messages.between(session, room_id=room_id, first=first, last=last)
            return [(MessagePublic.model_validate(m), m.nonce) for m in found]

    return MessageSource(last_seq=last_seq, between=between)
