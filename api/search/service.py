"""Full-text search of the messages in the caller's rooms, newest first.

Both databases are asked the same thing: messages of rooms the caller belongs to, not
deleted, whose index holds, for every query word, a word starting with it. Each query is
built from the words `api.search.words` extracted, each quoted, so nothing of the caller's
syntax (quotes, `NEAR`, `OR`, `*`, `-`, `^`) ever reaches the full-text engine.

"Newest first" is by id: ids grow in the order messages are stored, which is their creation
order, and a page continues below its `before` id. The cost of a page is bounded by the
matches of its words, never by the number of messages or of rooms the caller is in:

- SQLite: FTS5 hands out its matches newest first and the page stops once it is full; each
  match's membership is one primary-key lookup.
- PostgreSQL: see `_postgres_ids`.

The worst case on both is a word common in other people's rooms and absent from the
caller's: each of its matches is read once (bench/README.md has the figures).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ARRAY, Integer, TextClause, bindparam, func, select, text
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
    # Loaded as history loads them; one deleted since the match above is left out.
    page = select(Message).where(Message.id.in_(ids[:limit]), Message.deleted_at.is_(None))
    messages = (await session.scalars(page.order_by(Message.id.desc()))).all()
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
    """Two steps, so that no plan can cost more than a window plus the word's matches.

    Left to itself, the planner walks the newest messages and filters them when it expects
    the page to fill soon (right for a common word), and reads the GIN index otherwise. It
    cannot know that a word common in other rooms is absent from the caller's: it then walks
    the whole table (0.6 s at a million messages). And joined to the memberships, it may read
    the GIN index once per room of the caller. So the rooms go in as an array (no join), the
    walk is confined to the newest `RECENT_WINDOW` ids, and what lies beyond is read through
    the GIN index only (`enable_indexscan` off: bitmap scans remain)."""
    rooms = [room_id] if room_id is not None else await _room_ids(session, user_id)
    if not rooms:
        return []
    upper = before if before is not None else (await session.scalar(select(func.max(Message.id))) or 0) + 1
    # A plan for the words at hand, not a cached generic one blind to them.
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    floor = upper - RECENT_WINDOW
    parameters = {"tsquery": postgres_tsquery(words), "rooms": rooms, "upper": upper, "floor": floor}
    recent = await session.scalars(
        postgres_statement("m.id < :upper AND m.id >= :floor"), {**parameters, "limit": limit}
    )
    ids = list(recent.all())
    if len(ids) < limit and floor > 1:
        await session.execute(text("SET LOCAL enable_indexscan = off"))
        older = await session.scalars(
            postgres_statement("m.id < :floor"), {**parameters, "limit": limit - len(ids)}
        )
        ids += older.all()
    return ids


# How many of the newest ids a search may walk through before it turns to the GIN index alone.
RECENT_WINDOW = 10_000


def postgres_tsquery(words: Sequence[str]) -> str:
    """Quoted lexemes with `:*` (prefix). The words hold letters, digits and accents only and
    are quoted anyway; folded as the index's function folds bodies; to_tsquery lower-cases."""
    return " & ".join(
        "'" + word.translate(_FOLD).replace("\\", "\\\\").replace("'", "''") + "':*" for word in words
    )


def postgres_statement(id_range: str) -> TextClause:
    return text(
        f"SELECT m.id FROM messages AS m WHERE m.{POSTGRES_COLUMN} @@ to_tsquery('simple', :tsquery) "
        f"AND m.deleted_at IS NULL AND m.room_id = ANY(:rooms) AND {id_range} ORDER BY m.id DESC LIMIT :limit"
    ).bindparams(bindparam("rooms", type_=ARRAY(Integer)))


async def _room_ids(session: AsyncSession, user_id: int) -> list[int]:
    return list(
        (await session.scalars(select(Membership.room_id).where(Membership.user_id == user_id))).all()
    )
