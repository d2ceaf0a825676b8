"""Reactions: emoji a member puts on a message, at most one of each per member.

They are kept on the message itself (`Message.reactions`, in the order of each emoji's
first use), so every read of a message has them without a join. A reaction is a change of
the room like an edit: it takes the room's next rev, so changes of one room take turns and
concurrent reactions of many people to one message are each counted exactly once. Adding
a reaction one has, or removing one one has not, is no change: no rev, no frame.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from api.db import Database
from api.errors import Conflict
from api.messages.models import Message
from api.messages.revs import lock_room, take_rev
from api.messages.service import get_message

MAX_DISTINCT = 50
MAX_EMOJI = 32


def check_emoji(value: str) -> str:
    """1–32 code points, no white space, no control character, no `/`."""
    if not 1 <= len(value) <= MAX_EMOJI:
        raise ValueError(f"an emoji is 1–{MAX_EMOJI} characters")
    if any(c.isspace() or c == "/" or unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("an emoji has no white space, control character or `/`")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("an emoji must be valid Unicode") from None
    return value


async def react(
    *, db: Database, room_id: int, seq: str, user_id: int, emoji: str, add: bool
) -> tuple[Message, int | None]:
    """Add or remove the user's `emoji` on a message: the message after, and the rev the
    change took (None when it was no change)."""
    async with db.writing() as session:
        await lock_room(session, room_id)
        message = await get_message(session, room_id, seq)
        if message.deleted:
            raise Conflict("A deleted message takes no reactions")
        reactions = changed(message.reactions or [], user_id, emoji, add)
        if reactions is None:
            return message, None
        message.reactions = reactions or None
        message.rev = await take_rev(session, room_id)
        return message, message.rev


def changed(
    reactions: list[dict[str, Any]], user_id: int, emoji: str, add: bool
) -> list[dict[str, Any]] | None:
    """The reactions with the change made, or None when it is no change."""
    found = next((r for r in reactions if r["emoji"] == emoji), None)
    if add:
        if found is not None and user_id in found["users"]:
            return None
        if found is None:
            if len(reactions) >= MAX_DISTINCT:
                raise Conflict(f"A message takes at most {MAX_DISTINCT} different emoji")
            return [*reactions, {"emoji": emoji, "users": [user_id]}]
        return [r if r is not found else {"emoji": emoji, "users": [*r["users"], user_id]} for r in reactions]
    if found is None or user_id not in found["users"]:
        return None
    users = [u for u in found["users"] if u != user_id]
    # An emoji whose last reaction goes leaves the list; added again, it goes last.
    return [
        r if r is not found else {"emoji": emoji, "users": users}
        for r in reactions
        if r is not found or users
    ]
