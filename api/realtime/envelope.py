"""What travels between worker processes: one frame, already serialized, and a small header."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

import orjson

# Everything that is not about one room's subscribers: user-level frames, closes of a user's
# connections, announcements. Every worker subscribes to it and keeps what concerns its own.
USERS_CHANNEL = "hubbub:users"


def room_channel(room_id: int) -> str:
    return f"hubbub:room:{room_id}"


class Kind(StrEnum):
    # A change to a room's messages (new, edited, deleted, reacted to), numbered by `rev`:
    # delivered in rev order, each once. A new message has its `seq`, its author in
    # `user_id`, the users it mentions in `user_ids` and its `activity` frame in `extra`.
    CHANGE = "change"
    FRAME = "frame"  # any other frame of the room, to its subscribers but `user_id`'s
    END_USER = "end_user"  # end `user_id`'s subscriptions to the room with `close`
    END_ROOM = "end_room"  # end every subscription to the room with `close`
    # A frame for the /ws connections of `user_ids`. `event` "read" also reaches their
    # sockets to `room_id`; "added" and "removed" start and stop their `activity` for it.
    USER = "user"
    CLOSE = "close"  # close `user_id`'s connections whose credential matches `credential`
    BROADCAST = "broadcast"  # a frame for every connection


ROOM_KINDS = frozenset({Kind.CHANGE, Kind.FRAME, Kind.END_USER, Kind.END_ROOM})


@dataclass(slots=True)
class Envelope:
    kind: Kind
    room_id: int = 0
    frame: str = ""
    rev: int = 0
    seq: int = 0
    user_id: int = 0
    user_ids: tuple[int, ...] = ()
    close: str = ""  # a key of protocol.CLOSE_REASONS
    credential: str = ""  # CLOSE: "" for every connection, else the one credential to close
    event: str = ""
    extra: str = ""
    origin: str = ""  # the worker that published it
    sent_at: float = field(default_factory=time.time)

    @property
    def channel(self) -> str:
        return room_channel(self.room_id) if self.kind in ROOM_KINDS else USERS_CHANNEL

    def encode(self) -> bytes:
        # The frame goes after the header verbatim: receivers never re-serialize it. orjson
        # never writes a raw newline, so the first one ends the header.
        header = [
            self.kind.value,
            self.room_id,
            self.rev,
            self.seq,
            self.user_id,
            self.user_ids,
            self.close,
            self.credential,
            self.event,
            self.extra,
            self.origin,
            self.sent_at,
        ]
        return orjson.dumps(header) + b"\n" + self.frame.encode()

    @classmethod
    def decode(cls, data: bytes) -> Envelope:
        header, _, frame = data.partition(b"\n")
        kind, room_id, rev, seq, user_id, user_ids, close, credential, event, extra, origin, sent_at = (
            orjson.loads(header)
        )
        return cls(
            Kind(kind),
            room_id,
            frame.decode(),
            rev,
            seq,
            user_id,
            tuple(user_ids),
            close,
            credential,
            event,
            extra,
            origin,
            sent_at,
        )
