"""What travels between worker processes: one frame, already serialized, and a small header."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

import orjson

USERS_CHANNEL = "hubbub:users"


def room_channel(room_id: int) -> str:
    return f"hubbub:room:{room_id}"


class Kind(StrEnum):
    MESSAGE = "message"  # a stored message: delivered in seq order
    FRAME = "frame"  # any other frame, to everyone in the room but `user_id`
    CLOSE_USER = "close_user"  # close `user_id`'s connections to the room
    CLOSE_ROOM = "close_room"  # close every connection to the room
    CLOSE_ACCOUNT = "close_account"  # close every connection of `user_id`


@dataclass(slots=True)
class Envelope:
    kind: Kind
    room_id: int = 0
    frame: str = ""
    seq: int = 0
    user_id: int = 0
    close: str = ""  # a key of protocol.CLOSE_REASONS
    origin: str = ""  # the worker that published it
    sent_at: float = field(default_factory=time.time)

    @property
    def channel(self) -> str:
        return USERS_CHANNEL if self.kind is Kind.CLOSE_ACCOUNT else room_channel(self.room_id)

    def encode(self) -> bytes:
        # The frame goes after the header verbatim: receivers never re-serialize it.
        header = [
            self.kind.value,
            self.room_id,
            self.seq,
            self.user_id,
            self.close,
            self.origin,
            self.sent_at,
        ]
        return orjson.dumps(header) + b"\n" + self.frame.encode()

    @classmethod
    def decode(cls, data: bytes) -> Envelope:
        header, _, frame = data.partition(b"\n")
        kind, room_id, seq, user_id, close, origin, sent_at = orjson.loads(header)
        return cls(Kind(kind), room_id, frame.decode(), seq, user_id, close, origin, sent_at)
