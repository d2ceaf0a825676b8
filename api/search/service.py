"""Full-text search of the messages in the caller's rooms, newest first.

Both databases are asked the same thing: messages of rooms the caller belongs to, not
deleted, whose index holds, for every query word, a word starting with it. Each query is
built from the words `api.search.words` extracted, each quoted, so nothing of the caller's
syntax (quotes, `NEAR`, `OR`, `*`, `-`, `^`) ever reaches the full-text engine.

"Newest first" is by id: ids grow in the order messages are stored, which is their creation
order, and the full-text indexes can hand out their matches in that order. So a page reads
matches from the newest down and stops once it is full, and checks each match's membership
with one primary-key lookup: its cost does not grow with the number of rooms the caller is
in. Its worst case is a word common in other people's rooms and rare in one's own: every
match of the word is read once (see bench/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.ids import parse_id
from api.messages.models import Message
from api.rooms.models import Membership
from api.search.index import FTS_TABLE, POSTGRES_COLUMN
from api.search.words import POSTGRES_FOLD_FROM, POSTGRES_FOLD_TO

_FOLD = str.maketrans(POSTGRES_FOLD_FROM, POSTGRES_FOLD_TO)


async def member_room_id(session: AsyncSession, *, user_id: int, room_id: str) -> int | None:
    """The room's id when `user_id` belongs to it; None for any other room or a malformed id."""
    parsed = parse_id(room_id)
    if parsed is None:
        return None
    member = await session.get(Membership, (parsed, user_id))
    return parsed if member is not None else None


async def can_read(session: AsyncSession, *, user_id: int, message_id: int) -> bool:
    """Whether the message exists in a room `user_id` belongs to (deleted ones included)."""
    found = await session.scalar(
        select(Message.id)
        .join(Membership, (Membership.room_id == Message.room_id) & (Membership.user_id == user_id))
        .where(Message.id == message_id)
    )
    return found is not None


async def search(
    session: AsyncSession,
    *,
    user_id: int,
    words: Sequence[str],
    room_id: int | None,
    before: int | None,
    limit: int,
) -> tuple[list[Message], bool]:
    """Up to `limit` matches newest first, and whether older ones exist."""
    find = _sqlite_ids if session.get_bind().dialect.name == "sqlite" else _postgres_ids
    ids = await find(session, user_id=user_id, words=words, room_id=room_id, before=before, limit=limit + 1)
    if not ids:
        return [], False
    page = ids[:limit]
    messages = (
        await session.scalars(select(Message).where(Message.id.in_(page)).order_by(Message.id.desc()))
    ).all()
    return list(messages), len(ids) > limit


_MEMBER = "EXISTS (SELECT 1 FROM memberships AS mb WHERE mb.room_id = m.room_id AND mb.user_id = :user_id)"


async def _sqlite_ids(
    session: AsyncSession,
    *,
    user_id: int,
    words: Sequence[str],
    room_id: int | None,
    before: int | None,
    limit: int,
) -> list[int]:
    # CROSS JOIN makes SQLite loop over the FTS matches outside, which it hands out newest
    # first (ORDER BY rowid DESC is consumed by FTS5, no sort) and stops at LIMIT.
    match = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
    conditions = [f"{FTS_TABLE} MATCH :match", "m.deleted_at IS NULL", _MEMBER]
    if room_id is not None:
        conditions.append("m.room_id = :room_id")
    if before is not None:
        conditions.append(f"{FTS_TABLE}.rowid < :before")
    statement = text(
        f"SELECT m.id FROM {FTS_TABLE} CROSS JOIN messages AS m ON m.id = {FTS_TABLE}.rowid "
        f"WHERE {' AND '.join(conditions)} ORDER BY {FTS_TABLE}.rowid DESC LIMIT :limit"
    )
    parameters = {"match": match, "user_id": user_id, "room_id": room_id, "before": before, "limit": limit}
    return list((await session.scalars(statement, parameters)).all())


async def _postgres_ids(
    session: AsyncSession,
    *,
    user_id: int,
    words: Sequence[str],
    room_id: int | None,
    before: int | None,
    limit: int,
) -> list[int]:
    # Quoted lexemes with `:*` (prefix); the words hold letters, digits and accents only, and
    # are quoted anyway. Folded as the index's function folds bodies; to_tsquery lower-cases.
    tsquery = " & ".join(
        "'" + word.translate(_FOLD).replace("\\", "\\\\").replace("'", "''") + "':*" for word in words
    )
    conditions = [f"m.{POSTGRES_COLUMN} @@ to_tsquery('simple', :tsquery)", "m.deleted_at IS NULL", _MEMBER]
    if room_id is not None:
        conditions.append("m.room_id = :room_id")
    if before is not None:
        conditions.append("m.id < :before")
    # A plan for the words at hand: a rare word reads the GIN index, a common one walks the
    # newest messages; a cached generic plan, blind to the words, would pick one for both.
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    statement = text(
        f"SELECT m.id FROM messages AS m WHERE {' AND '.join(conditions)} ORDER BY m.id DESC LIMIT :limit"
    )
    parameters = {
        "tsquery": tsquery,
        "user_id": user_id,
        "room_id": room_id,
        "before": before,
        "limit": limit,
    }
    return list((await session.scalars(statement, parameters)).all())
