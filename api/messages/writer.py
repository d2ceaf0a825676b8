"""Storing new messages: one writer task per process, committing sends in batches.

Every send, over HTTP or WebSocket, is queued here. The writer takes whatever is
waiting (up to `max_batch`) and stores it in one transaction of about five
statements however many rooms it touches: one membership query, one nonce query,
one `UPDATE rooms SET last_seq = last_seq + k, last_rev = last_rev + k RETURNING ...`
for all its rooms, and one multi-row INSERT. The UPDATE is what makes seqs and revs
gap-free and unique: on PostgreSQL the rooms' rows are locked (in id order, so two
batches can never deadlock each other) until commit, so writers in other processes,
and edits, deletes and reactions (which bump `last_rev` the same way, see
`api.messages.revs`), take theirs after ours; on SQLite the write lock does the same.
A rollback undoes the bump with the inserts, so no number is ever skipped.

Under load this is a group commit: a thousand senders cost a few transactions,
not a thousand. Idle, a single send is stored at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.schemas import UserSummary
from api.db import Database, utcnow
from api.errors import Forbidden, HubbubError, Unavailable
from api.messages.models import Message
from api.messages.schemas import MessagePublic
from api.rooms.models import Membership, Room

logger = logging.getLogger(__name__)

NonceKey = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class Stored:
    message: MessagePublic
    nonce: str | None
    created: bool


@dataclass(slots=True)
class _Send:
    room_id: int
    author: UserSummary
    body: str
    nonce: str | None
    future: asyncio.Future[Stored] = field(repr=False)

    @property
    def nonce_key(self) -> NonceKey | None:
        return (self.room_id, self.author.id, self.nonce) if self.nonce else None


Outcome = Stored | HubbubError
OnStored = Callable[[Sequence[Stored]], Awaitable[None]]


class MessageWriter:
    def __init__(self, db: Database, *, on_stored: OnStored, max_batch: int = 256) -> None:
        self._db = db
        self._on_stored = on_stored
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Send] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="message-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while not self._queue.empty():
            self._queue.get_nowait().future.cancel()

    async def submit(self, *, room_id: int, author: UserSummary, body: str, nonce: str | None) -> Stored:
        """Store one message (body already validated). Raises Forbidden for a non-member."""
        return await self.enqueue(room_id=room_id, author=author, body=body, nonce=nonce)

    def enqueue(
        self, *, room_id: int, author: UserSummary, body: str, nonce: str | None
    ) -> asyncio.Future[Stored]:
        """Queue one message; the future says how it went. Sends are stored in the order
        they are queued, so a client need not wait for one before sending the next."""
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Send(room_id, author, body, nonce, future))
        return future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                outcomes = await self._store(batch)
            except Exception as exc:  # the database failed: every sender hears it, the writer lives on
                logger.warning("storing %d messages failed: %s", len(batch), exc, exc_info=True)
                error = Unavailable("The database is unavailable; send again with the same nonce")
                outcomes = [error] * len(batch)
            created = sorted(
                (o for o in outcomes if isinstance(o, Stored) and o.created),
                key=lambda o: (o.message.room_id, o.message.seq),
            )
            if created:
                try:
                    await self._on_stored(created)
                except Exception:
                    logger.exception("publishing %d stored messages failed", len(created))
            for send, outcome in zip(batch, outcomes, strict=True):
                if send.future.done():
                    continue  # the sender went away
                if isinstance(outcome, Stored):
                    send.future.set_result(outcome)
                else:
                    send.future.set_exception(outcome)

    async def _store(self, batch: list[_Send]) -> list[Outcome]:
        try:
            async with self._db.writing() as session:
                return await _store_batch(session, batch)
        except IntegrityError:
            if len(batch) == 1:
                return [await self._existing(batch[0])]
            # Another process stored one of these nonces after we looked: go one by one.
            return [outcome for send in batch for outcome in await self._store([send])]

    async def _existing(self, send: _Send) -> Outcome:
        """The message a racing process stored under this send's nonce."""
        key = send.nonce_key
        if key is None:
            raise RuntimeError("an insert without a nonce conflicted")
        async with self._db.session() as session:
            found = await _find_nonces(session, [key])
        if key not in found:
            raise RuntimeError("a nonce conflicted but its message is not there")
        return found[key]


async def _store_batch(session: AsyncSession, batch: list[_Send]) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(batch)
    members = await _memberships(session, batch)
    known = await _find_nonces(session, [key for send in batch if (key := send.nonce_key)])
    first_with_key: dict[NonceKey, int] = {}
    new_by_room: defaultdict[int, list[int]] = defaultdict(list)
    for index, send in enumerate(batch):
        key = send.nonce_key
        if (send.room_id, send.author.id) not in members:
            outcomes[index] = Forbidden("Members only")
        elif key is not None and key in known:
            outcomes[index] = known[key]
        elif key is None or key not in first_with_key:
            if key is not None:
                first_with_key[key] = index
            new_by_room[send.room_id].append(index)
    if new_by_room:
        tops = await _bump_rooms(session, {room: len(indexes) for room, indexes in new_by_room.items()})
        created = _number(batch, new_by_room, tops, outcomes)
        if created:
            inserted = await session.execute(_INSERT, [row for _, row in created])
            ids = {(room_id, seq): message_id for room_id, seq, message_id in inserted.all()}
            for index, row in created:
                message_id = ids[row["room_id"], row["seq"]]
                send = batch[index]
                message = MessagePublic(
                    id=message_id,
                    room_id=send.room_id,
                    seq=row["seq"],
                    rev=row["rev"],
                    author=send.author,
                    body=send.body,
                    created_at=row["created_at"],
                    edited_at=None,
                    deleted=False,
                )
                outcomes[index] = Stored(message=message, nonce=send.nonce, created=True)
    # A nonce repeated within the batch gets what its first occurrence got.
    for index, send in enumerate(batch):
        if outcomes[index] is None:
            first = outcomes[first_with_key[send.nonce_key]]  # type: ignore[index]
            outcomes[index] = (
                Stored(first.message, send.nonce, created=False) if isinstance(first, Stored) else first
            )
    return [outcome for outcome in outcomes if outcome is not None]


# Core, not the ORM's bulk path: one multi-row INSERT ... RETURNING. Rows come back in no
# promised order (asking for one makes SQLAlchemy send a statement per row on SQLite), so
# each id is matched to its message by (room_id, seq).
_MESSAGES = Message.__table__
_INSERT = insert(_MESSAGES).returning(_MESSAGES.c.room_id, _MESSAGES.c.seq, _MESSAGES.c.id)  # type: ignore[arg-type]


async def _bump_rooms(session: AsyncSession, counts: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Add each room's count to its last_seq and last_rev in one statement; the new
    (last_seq, last_rev) by room.

    PostgreSQL locks the rows first, in id order, so two workers' batches that share rooms
    wait for each other instead of deadlocking. SQLite has one writer and renders no lock.
    """
    rooms = sorted(counts)
    await session.execute(select(Room.id).where(Room.id.in_(rooms)).order_by(Room.id).with_for_update())
    bump = case(counts, value=Room.id, else_=0)
    rows = await session.execute(
        update(Room)
        .where(Room.id.in_(rooms))
        .values(last_seq=Room.last_seq + bump, last_rev=Room.last_rev + bump)
        .returning(Room.id, Room.last_seq, Room.last_rev)
    )
    return {room_id: (last_seq, last_rev) for room_id, last_seq, last_rev in rows.all()}


def _number(
    batch: list[_Send],
    new_by_room: dict[int, list[int]],
    tops: dict[int, tuple[int, int]],
    outcomes: list[Outcome | None],
) -> list[tuple[int, dict[str, Any]]]:
    """The rows to insert, seqs and revs assigned, with the index of the send each comes from."""
    now = utcnow()
    created: list[tuple[int, dict[str, Any]]] = []
    for room_id, indexes in new_by_room.items():
        top = tops.get(room_id)
        if top is None:  # the room was deleted meanwhile
            for index in indexes:
                outcomes[index] = Forbidden("Members only")
            continue
        first_seq = top[0] - len(indexes) + 1
        first_rev = top[1] - len(indexes) + 1
        for offset, index in enumerate(indexes):
            send = batch[index]
            row = {
                "room_id": room_id,
                "seq": first_seq + offset,
                "rev": first_rev + offset,
                "author_id": send.author.id,
                "body": send.body,
                "nonce": send.nonce,
                "created_at": now,
            }
            created.append((index, row))
    return created


async def _memberships(session: AsyncSession, batch: list[_Send]) -> set[tuple[int, int]]:
    rooms = {send.room_id for send in batch}
    authors = {send.author.id for send in batch}
    rows = await session.execute(
        select(Membership.room_id, Membership.user_id).where(
            Membership.room_id.in_(rooms), Membership.user_id.in_(authors)
        )
    )
    return {(room_id, user_id) for room_id, user_id in rows.all()}


async def _find_nonces(session: AsyncSession, keys: list[NonceKey]) -> dict[NonceKey, Stored]:
    if not keys:
        return {}
    wanted = set(keys)
    rows = await session.scalars(
        select(Message).where(
            Message.room_id.in_({room for room, _, _ in keys}),
            Message.author_id.in_({author for _, author, _ in keys}),
            Message.nonce.in_({nonce for _, _, nonce in keys}),
        )
    )
    found: dict[NonceKey, Stored] = {}
    for message in rows.all():
        key = (message.room_id, message.author_id, message.nonce or "")
        if key in wanted:
            found[key] = Stored(MessagePublic.model_validate(message), message.nonce, created=False)
    return found
