"""Storing new messages: one writer task per process, committing sends in batches.

Every send, over HTTP or WebSocket, is queued here. The writer takes whatever is
waiting (up to `max_batch`) and stores it in one transaction of a few statements
however many rooms it touches: a membership query, a nonce query (when sends carry
nonces), `SELECT ... FOR UPDATE` of the batch's rooms, one `UPDATE rooms SET last_seq =
last_seq + k, last_rev = last_rev + k RETURNING ...` for all of them, one multi-row
INSERT, and the authors' read cursors (plus a members query and an insert when bodies
mention someone). The UPDATE is what makes seqs and revs gap-free and unique: on
PostgreSQL the rooms' rows are locked (in id order, so two batches can never deadlock
each other) until commit, so writers in other processes, and edits, deletes and
reactions (which bump `last_rev` the same way, see `api.messages.revs`), take theirs
after ours; on SQLite the write lock does the same. A rollback undoes the bump with the
inserts, so no number is ever skipped.

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

from sqlalchemy import bindparam, case, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.schemas import UserSummary
from api.cancellation import stop_if_cancelled
from api.db import Database, utcnow
from api.errors import Forbidden, HubbubError, Unavailable, Unprocessable
from api.messages import service as messages
from api.messages.models import Message, MessageMention
from api.messages.schemas import MessagePublic
from api.rooms.models import Membership, Room

logger = logging.getLogger(__name__)

NonceKey = tuple[int, int, str]


class InvalidReply(Unprocessable):
    """`reply_to` names no message of the room."""


@dataclass(frozen=True, slots=True)
class Stored:
    message: MessagePublic
    nonce: str | None
    created: bool


@dataclass(frozen=True, slots=True)
class ReadMoved:
    """An author's read cursor, moved to their own newest message in a room."""

    room_id: int
    user_id: int
    read_seq: int
    unread: int
    mentions: int


@dataclass(slots=True)
class _Send:
    room_id: int
    author: UserSummary
    body: str
    nonce: str | None
    reply_to: int | None
    future: asyncio.Future[Stored] = field(repr=False)

    @property
    def nonce_key(self) -> NonceKey | None:
        return (self.room_id, self.author.id, self.nonce) if self.nonce else None


Outcome = Stored | HubbubError
OnStored = Callable[[Sequence[Stored], Sequence[ReadMoved]], Awaitable[None]]


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

    async def submit(
        self, *, room_id: int, author: UserSummary, body: str, nonce: str | None, reply_to: int | None = None
    ) -> Stored:
        """Store one message (body already validated). Raises Forbidden for a non-member and
        InvalidReply when `reply_to` names no message of the room."""
        return await self.enqueue(room_id=room_id, author=author, body=body, nonce=nonce, reply_to=reply_to)

    def enqueue(
        self, *, room_id: int, author: UserSummary, body: str, nonce: str | None, reply_to: int | None = None
    ) -> asyncio.Future[Stored]:
        """Queue one message; the future says how it went. Sends are stored in the order
        they are queued, so a client need not wait for one before sending the next."""
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Send(room_id, author, body, nonce, reply_to, future))
        return future

    async def _run(self) -> None:
        while True:
            stop_if_cancelled()  # publishing through Redis may have swallowed a stop
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            reads: list[ReadMoved] = []
            try:
                outcomes = await self._store(batch, reads)
            except Exception as exc:  # the database failed: every sender hears it, the writer lives on
                logger.warning("storing %d messages failed: %s", len(batch), exc, exc_info=True)
                error = Unavailable("The database is unavailable; send again with the same nonce")
                outcomes = [error] * len(batch)
                reads = []
            created = sorted(
                (o for o in outcomes if isinstance(o, Stored) and o.created),
                key=lambda o: (o.message.room_id, o.message.seq),
            )
            if created:
                try:
                    await self._on_stored(created, reads)
                except Exception:
                    logger.exception("publishing %d stored messages failed", len(created))
            for send, outcome in zip(batch, outcomes, strict=True):
                if send.future.done():
                    continue  # the sender went away
                if isinstance(outcome, Stored):
                    send.future.set_result(outcome)
                else:
                    send.future.set_exception(outcome)

    async def _store(self, batch: list[_Send], reads: list[ReadMoved]) -> list[Outcome]:
        # Almost every batch is new messages from members: try the short path first.
        try:
            async with self._db.writing() as session:
                stored = _Batch(batch)
                outcomes = await stored.store_at_once(session)
        except (_Fallback, IntegrityError):
            pass  # rolled back: nothing was taken
        else:
            reads.extend(stored.reads)
            return outcomes
        return await self._store_carefully(batch, reads)

    async def _store_carefully(self, batch: list[_Send], reads: list[ReadMoved]) -> list[Outcome]:
        try:
            async with self._db.writing() as session:
                stored = _Batch(batch)
                outcomes = await stored.store(session)
        except IntegrityError:
            if len(batch) == 1:
                return [await self._existing(batch[0])]
            # Another process stored one of these nonces after we looked: go one by one.
            return [outcome for send in batch for outcome in await self._store_carefully([send], reads)]
        reads.extend(stored.reads)
        return outcomes

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


class _Fallback(Exception):
    """The short path met what only the careful one handles: a repeated nonce, a reply to no
    message, an author who is no member, a deleted room. Its transaction rolls back."""


class _Batch:
    """One transaction's worth of sends, and what became of each.

    `store_at_once` is the common case: bump the rooms (on PostgreSQL the same statement
    locks them in id order first), insert the messages, then find which authors are members
    and move their read cursors (`_move_read_cursors`, two statements). Replies are
    checked against the room's last seq the bump returns. Anything unusual raises _Fallback
    or IntegrityError (a nonce stored before), the transaction rolls back, and `store` does
    it carefully: memberships and nonces looked up first, each send given its own outcome.
    """

    def __init__(self, sends: list[_Send]) -> None:
        self.sends = sends
        self.outcomes: list[Outcome | None] = [None] * len(sends)
        self.reads: list[ReadMoved] = []
        self._first_with_key: dict[NonceKey, int] = {}

    async def store(self, session: AsyncSession) -> list[Outcome]:
        new_by_room = await self._new_sends(session)
        if new_by_room:
            new_by_room = await self._check_replies(session, new_by_room)
        if new_by_room:
            mentioned = await self._mentions(session, new_by_room)
            tops = await _bump_rooms(session, {room: len(indexes) for room, indexes in new_by_room.items()})
            rows = self._number(new_by_room, tops, mentioned)
            await self._insert(session, rows)
        self._repeat_nonces()
        return [outcome for outcome in self.outcomes if outcome is not None]

    async def store_at_once(self, session: AsyncSession) -> list[Outcome]:
        new_by_room: defaultdict[int, list[int]] = defaultdict(list)
        for index, send in enumerate(self.sends):
            key = send.nonce_key
            if key is None or key not in self._first_with_key:
                if key is not None:
                    self._first_with_key[key] = index
                new_by_room[send.room_id].append(index)
        locking = (await session.connection()).dialect.name != "sqlite"
        counts = {room: len(indexes) for room, indexes in new_by_room.items()}
        tops = await _bump_rooms(session, counts, lock=locking)
        if tops.keys() != new_by_room.keys() or not self._replies_stored(new_by_room, tops):
            raise _Fallback
        mentioned = await self._mentions(session, new_by_room)
        rows = self._number(new_by_room, tops, mentioned)
        members = await self._insert(session, rows)
        if any((self.sends[index].room_id, self.sends[index].author.id) not in members for index, _ in rows):
            raise _Fallback
        self._repeat_nonces()
        return [outcome for outcome in self.outcomes if outcome is not None]

    def _replies_stored(self, new_by_room: dict[int, list[int]], tops: dict[int, tuple[int, int]]) -> bool:
        """Every `reply_to` names a seq stored before its message: seqs have no gaps."""
        for room_id, indexes in new_by_room.items():
            first_seq = tops[room_id][0] - len(indexes) + 1
            for offset, index in enumerate(indexes):
                reply_to = self.sends[index].reply_to
                if reply_to is not None and not 1 <= reply_to < first_seq + offset:
                    return False
        return True

    async def _new_sends(self, session: AsyncSession) -> dict[int, list[int]]:
        """The indexes of the sends to store, by room; the others get their outcome now."""
        members = await _memberships(session, self.sends)
        known = await _find_nonces(session, [key for send in self.sends if (key := send.nonce_key)])
        new_by_room: defaultdict[int, list[int]] = defaultdict(list)
        for index, send in enumerate(self.sends):
            key = send.nonce_key
            if (send.room_id, send.author.id) not in members:
                self.outcomes[index] = Forbidden("Members only")
            elif key is not None and key in known:
                self.outcomes[index] = known[key]
            elif key is None or key not in self._first_with_key:
                if key is not None:
                    self._first_with_key[key] = index
                new_by_room[send.room_id].append(index)
        return new_by_room

    async def _check_replies(
        self, session: AsyncSession, new_by_room: dict[int, list[int]]
    ) -> dict[int, list[int]]:
        """Lock the rooms (in id order) and keep the sends whose `reply_to` names a message
        stored before them: seqs have no gaps, so any seq up to the one before is one."""
        rooms = sorted(new_by_room)
        rows = await session.execute(
            select(Room.id, Room.last_seq).where(Room.id.in_(rooms)).order_by(Room.id).with_for_update()
        )
        last_seqs = {room_id: last_seq for room_id, last_seq in rows.all()}  # noqa: C416 (Rows)
        kept: dict[int, list[int]] = {}
        for room_id, indexes in new_by_room.items():
            last_seq = last_seqs.get(room_id)
            if last_seq is None:  # the room was deleted meanwhile
                for index in indexes:
                    self.outcomes[index] = Forbidden("Members only")
                continue
            valid: list[int] = []
            for index in indexes:
                reply_to = self.sends[index].reply_to
                if reply_to is not None and not 1 <= reply_to <= last_seq + len(valid):
                    self.outcomes[index] = InvalidReply("`reply_to` names no message of this room")
                else:
                    valid.append(index)
            if valid:
                kept[room_id] = valid
        return kept

    async def _mentions(
        self, session: AsyncSession, new_by_room: dict[int, list[int]]
    ) -> dict[int, list[int]]:
        """The members each new send mentions, by send index (only those that mention)."""
        bodies = {
            index: (room_id, self.sends[index].body)
            for room_id, indexes in new_by_room.items()
            for index in indexes
        }
        return await messages.mentioned_members(session, bodies)

    def _number(
        self,
        new_by_room: dict[int, list[int]],
        tops: dict[int, tuple[int, int]],
        mentioned: dict[int, list[int]],
    ) -> list[tuple[int, dict[str, Any]]]:
        """The rows to insert, seqs and revs assigned, with the index of the send each comes from."""
        now = utcnow()
        rows: list[tuple[int, dict[str, Any]]] = []
        for room_id, indexes in new_by_room.items():
            last_seq, last_rev = tops[room_id]
            first_seq, first_rev = last_seq - len(indexes) + 1, last_rev - len(indexes) + 1
            for offset, index in enumerate(indexes):
                send = self.sends[index]
                row = {
                    "room_id": room_id,
                    "seq": first_seq + offset,
                    "rev": first_rev + offset,
                    "author_id": send.author.id,
                    "body": send.body,
                    "nonce": send.nonce,
                    "created_at": now,
                    "reply_to": send.reply_to,
                    "mentions": mentioned.get(index),
                }
                rows.append((index, row))
        return rows

    async def _insert(
        self, session: AsyncSession, rows: list[tuple[int, dict[str, Any]]]
    ) -> set[tuple[int, int]]:
        """Insert the rows and their mentions, move the authors' cursors; the (room, author)
        pairs whose cursor moved, which are those of members."""
        connection = await session.connection()
        inserted = await connection.execute(_INSERT, [row for _, row in rows])
        ids = {(room_id, seq): message_id for room_id, seq, message_id in inserted.all()}
        mention_rows = []
        newest_own: dict[tuple[int, int], int] = {}
        for index, row in rows:
            send = self.sends[index]
            message_id = ids[row["room_id"], row["seq"]]
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
                reply_to=send.reply_to,
                mentions=row["mentions"] or [],
                reactions=[],
            )
            self.outcomes[index] = Stored(message=message, nonce=send.nonce, created=True)
            newest_own[send.room_id, send.author.id] = row["seq"]
            mention_rows += [
                {"user_id": user_id, "room_id": row["room_id"], "seq": row["seq"], "message_id": message_id}
                for user_id in row["mentions"] or ()
                if user_id != send.author.id  # mentioning oneself counts for nobody
            ]
        if mention_rows:
            await session.execute(insert(MessageMention), mention_rows)
        members = await _move_read_cursors(session, newest_own)
        self.reads = _read_states(newest_own, [row for _, row in rows])
        return members

    def _repeat_nonces(self) -> None:
        """A nonce repeated within the batch gets what its first occurrence got."""
        for index, send in enumerate(self.sends):
            if self.outcomes[index] is None:
                first = self.outcomes[self._first_with_key[send.nonce_key]]  # type: ignore[index]
                self.outcomes[index] = (
                    Stored(first.message, send.nonce, created=False) if isinstance(first, Stored) else first
                )


# Core, not the ORM's bulk path: one multi-row INSERT ... RETURNING. Rows come back in no
# promised order (asking for one makes SQLAlchemy send a statement per row on SQLite), so
# each id is matched to its message by (room_id, seq).
_MESSAGES = Message.__table__
_INSERT = insert(_MESSAGES).returning(_MESSAGES.c.room_id, _MESSAGES.c.seq, _MESSAGES.c.id)  # type: ignore[arg-type]
_MEMBERSHIPS = Membership.__table__
_ROOMS = Room.__table__
_MEMBERS_OF = select(_MEMBERSHIPS.c.room_id, _MEMBERSHIPS.c.user_id).where(
    tuple_(_MEMBERSHIPS.c.room_id, _MEMBERSHIPS.c.user_id).in_(bindparam("pairs", expanding=True))
)
_MOVE_CURSOR = (
    update(_MEMBERSHIPS)  # type: ignore[arg-type]
    .where(_MEMBERSHIPS.c.room_id == bindparam("r"), _MEMBERSHIPS.c.user_id == bindparam("u"))
    .values(read_seq=bindparam("s"))
)


async def _bump_rooms(
    session: AsyncSession, counts: dict[int, int], *, lock: bool = False
) -> dict[int, tuple[int, int]]:
    """Add each room's count to its last_seq and last_rev in one statement; the new (last_seq,
    last_rev) by room. With `lock` (PostgreSQL), the same statement first locks the rooms'
    rows in id order, so two workers' batches that share rooms wait for each other instead of
    deadlocking. Core, on the connection: the ORM's UPDATE path would also try to keep loaded
    objects in step, at a cost on every batch."""
    rooms = _ROOMS.c
    bump = case(counts, value=rooms.id, else_=0)
    statement = update(_ROOMS).values(last_seq=rooms.last_seq + bump, last_rev=rooms.last_rev + bump)  # type: ignore[arg-type]
    if lock:
        locked = (
            select(rooms.id)
            .where(rooms.id.in_(sorted(counts)))
            .order_by(rooms.id)
            .with_for_update()
            .subquery()
        )
        statement = statement.where(rooms.id == locked.c.id)
    else:
        statement = statement.where(rooms.id.in_(sorted(counts)))
    connection = await session.connection()
    rows = await connection.execute(statement.returning(rooms.id, rooms.last_seq, rooms.last_rev))
    return {room_id: (last_seq, last_rev) for room_id, last_seq, last_rev in rows.all()}


async def _move_read_cursors(
    session: AsyncSession, newest_own: dict[tuple[int, int], int]
) -> set[tuple[int, int]]:
    """Each author has read up to their own newest message: it is the room's newest but for
    what others sent after it in this batch, so the cursor only ever moves forward. The
    (room, user) pairs that are memberships, which are exactly the authors who are members.

    Two statements whose shape never changes, so SQLAlchemy compiles each once: a query of
    the pairs, then one UPDATE executed for each (an executemany, one round trip). A single
    UPDATE with a CASE over every pair would be one round trip less, but building and
    compiling that expression anew for every batch cost more than the round trip."""
    connection = await session.connection()
    found = await connection.execute(_MEMBERS_OF, {"pairs": list(newest_own)})
    members = {(room_id, user_id) for room_id, user_id in found.all()}
    moves = [
        {"r": room, "u": user, "s": seq}
        for (room, user), seq in newest_own.items()
        if (room, user) in members
    ]
    if moves:
        await connection.execute(_MOVE_CURSOR, moves)
    return members


def _read_states(newest_own: dict[tuple[int, int], int], rows: list[dict[str, Any]]) -> list[ReadMoved]:
    """What each moved cursor leaves unread: only this batch's later messages by others, since
    the batch holds the room's newest seqs."""
    by_room: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_room[row["room_id"]].append(row)
    states = []
    for (room_id, user_id), read_seq in newest_own.items():
        after = [row for row in by_room[room_id] if row["seq"] > read_seq and row["author_id"] != user_id]
        mentioned = sum(1 for row in after if user_id in (row["mentions"] or ()))
        states.append(ReadMoved(room_id, user_id, read_seq, len(after), mentioned))
    return states


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
    rows = await session.execute(
        messages.select_payloads().where(
            Message.room_id.in_({room for room, _, _ in keys}),
            Message.author_id.in_({author for _, author, _ in keys}),
            Message.nonce.in_({nonce for _, _, nonce in keys}),
        )
    )
    found: dict[NonceKey, Stored] = {}
    for row in rows.all():
        key = (row.room_id, row.author_id, row.nonce or "")
        if key in wanted:
            found[key] = Stored(MessagePublic.model_validate(messages.payload(row)), row.nonce, created=False)
    return found
