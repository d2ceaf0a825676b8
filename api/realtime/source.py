"""The database reads the hub needs: where rooms stand, what changed in one, and who lost
access while the worker could not hear of it."""

from __future__ import annotations

from collections.abc import Sequence

from api.db import Database
from api.messages import service as messages
from api.realtime import access
from api.realtime.hub import CatchUp, ChangeSource, ConnectionView, Verdict


def database_source(db: Database) -> ChangeSource:
    async def tops(room_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        async with db.session() as session:
            return await messages.room_tops(session, room_ids)

    async def catch_up(room_id: int, after_rev: int, limit: int) -> CatchUp | None:
        async with db.snapshot() as session:
            top = (await messages.room_tops(session, [room_id])).get(room_id)
            if top is None:
                return None
            changes, has_more = await messages.changes(
                session, room_id=room_id, after_rev=after_rev, limit=limit
            )
        return CatchUp(changes, has_more, last_seq=top[0], last_rev=top[1])

    async def recheck(views: Sequence[ConnectionView]) -> list[Verdict]:
        async with db.session() as session:
            return await access.recheck(session, views)

    return ChangeSource(tops=tops, catch_up=catch_up, recheck=recheck)
