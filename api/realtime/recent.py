"""A room's newest messages as this worker delivered them: history frames without the database.

A room's channel applies every change to its recent messages in rev order, as it delivers it,
so at any moment they are exactly the room as of the channel's last delivered rev: what a
history frame and its `last_rev` must be. A subscriber whose history lies within them gets it
at once, serialized once per message (the cache keeps JSON, not objects), and its live frames
follow from that rev with nothing between.

What the cache can answer, it knows exactly: every message from `first_seq` up is in it, and
every change after `floor_rev` was to a message in it. Anything else is read from the
database, as before. Changes the channel could not deliver in order (a gap it could only
skip) empty it, and a rename (authors' display names) too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from api.messages import reactions
from api.messages.service import reactions_payload

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class History:
    """A history frame's content: the messages (JSON fragments, in the frame's order) and
    where the room stands."""

    messages: list[orjson.Fragment]
    last_seq: int
    last_rev: int
    truncated: bool


class RecentMessages:
    __slots__ = ("_capacity", "_payloads", "_revs", "first_seq", "floor_rev")

    def __init__(self, capacity: int, *, next_seq: int, last_rev: int) -> None:
        self._capacity = capacity
        # seq -> the message's payload as JSON, in its current state; in ascending seq.
        self._payloads: dict[int, bytes] = {}
        self._revs: dict[int, int] = {}
        self.first_seq = next_seq  # every message with seq >= first_seq is here
        self.floor_rev = last_rev  # every change with rev > floor_rev was to a message here

    def __len__(self) -> int:
        return len(self._payloads)

    # --- changes, in rev order ----------------------------------------------

    def added(self, seq: int, rev: int, payload: bytes) -> None:
        """A new message: the room's next seq."""
        self._payloads[seq] = payload
        self._revs[seq] = rev
        self._evict()

    def _evict(self) -> None:
        while len(self._payloads) > self._capacity:
            oldest = next(iter(self._payloads))
            del self._payloads[oldest]
            # Its later changes are no longer seen here: a since_rev before its rev can't be told.
            self.floor_rev = max(self.floor_rev, self._revs.pop(oldest))
            self.first_seq = oldest + 1

    def replaced(self, seq: int, rev: int, payload: bytes) -> None:
        """An edit, or a replayed change: the message's whole current state."""
        if seq in self._payloads:
            self._payloads[seq] = payload
            self._revs[seq] = rev
        else:
            self.floor_rev = max(self.floor_rev, rev)

    def changed(self, seq: int, rev: int, change: Callable[[Payload], None]) -> None:
        """A delete or a reaction, made to the message here by `change`."""
        payload = self._payloads.get(seq)
        if payload is None:
            self.floor_rev = max(self.floor_rev, rev)
            return
        message: Payload = orjson.loads(payload)
        change(message)
        message["rev"] = rev
        self._payloads[seq] = orjson.dumps(message)
        self._revs[seq] = rev

    def seed(self, payloads: list[bytes], *, first_seq: int, revs: list[int]) -> None:
        """Messages read from the database at exactly this cache's rev, from `first_seq` to the
        newest: those it lacks join it (the ones it has are the same, or newer)."""
        missing = self.first_seq - first_seq
        if missing <= 0 or len(payloads) < missing:
            return  # nothing new here, or not a run up to what is here
        seqs = range(first_seq, self.first_seq)
        self._payloads = dict(zip(seqs, payloads[:missing], strict=True)) | self._payloads
        self._revs = dict(zip(seqs, revs[:missing], strict=True)) | self._revs
        self.first_seq = first_seq
        if first_seq == 1:
            self.floor_rev = 0  # every message of the room is here: every change was to one of them
        self._evict()

    # --- answering --------------------------------------------------------------

    def history(
        self, *, last_seq: int, since: int | None, since_rev: int | None, newest: int, replay: int
    ) -> tuple[list[orjson.Fragment], bool] | None:
        """The history a joining subscriber gets, and whether it is truncated, as
        `messages.service.snapshot` would read it; None when this cache cannot tell."""
        if since_rev is not None:
            if since_rev < self.floor_rev:
                return None
            changed = sorted((rev, seq) for seq, rev in self._revs.items() if rev > since_rev)
            return [orjson.Fragment(self._payloads[seq]) for _, seq in changed[:replay]], len(
                changed
            ) > replay
        # Seqs have no gaps and every message keeps its seq: what is needed is arithmetic.
        if since is not None:
            count = max(0, last_seq - since)
            start = last_seq - min(count, replay) + 1
            truncated = count > replay
        else:
            start = max(1, last_seq - newest + 1)
            truncated = start > 1
        if start < self.first_seq and start <= last_seq:
            return None
        page = []
        for seq in range(start, last_seq + 1):
            payload = self._payloads.get(seq)
            if payload is None:
                return None  # cannot happen while every new message is added in order; never guess
            page.append(orjson.Fragment(payload))
        return page, truncated


def mark_deleted(message: Payload) -> None:
    """What `DELETE .../messages/{seq}` leaves of a message."""
    message["body"] = ""
    message["deleted"] = True
    message["mentions"] = []
    message["reactions"] = []


def apply_reaction(emoji: str, user_id: int, added: bool, message: Payload) -> None:
    """A reaction frame's change, made to the message's reactions by the server's own rule."""
    after = reactions.changed(message.get("reactions") or [], user_id, emoji, added)
    if after is not None:
        message["reactions"] = reactions_payload(after)
