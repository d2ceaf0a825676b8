"""Room events: what REST routes and the message writer tell live connections.

Every change to a room that someone connected should see goes through here, and
from here through `Hub.publish`, the one publish function.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.auth.schemas import UserSummary
from api.messages.schemas import MessagePublic
from api.messages.writer import Stored
from api.realtime.envelope import Envelope, Kind
from api.realtime.hub import Hub
from api.realtime.protocol import (
    ACCOUNT_DISABLED,
    ROOM_DELETED,
    TOKEN_REVOKED,
    CloseReason,
    delete_frame,
    edit_frame,
    membership_frame,
    message_frame,
    user_frame,
)


class RoomEvents:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def messages_stored(self, stored: Sequence[Stored]) -> None:
        await self._hub.publish(
            *(
                Envelope(
                    Kind.MESSAGE,
                    s.message.room_id,
                    message_frame(s.message, s.nonce),
                    seq=s.message.seq,
                )
                for s in stored
            )
        )

    async def message_edited(self, message: MessagePublic) -> None:
        await self._hub.publish(Envelope(Kind.FRAME, message.room_id, edit_frame(message)))

    async def message_deleted(self, room_id: int, seq: int) -> None:
        await self._hub.publish(Envelope(Kind.FRAME, room_id, delete_frame(room_id, seq)))

    async def typing(self, room_id: int, user: UserSummary) -> None:
        await self._hub.publish(Envelope(Kind.FRAME, room_id, user_frame("typing", user), user_id=user.id))

    async def member_changed(self, room_id: int, user: UserSummary, role: str, *, event: str) -> None:
        """`event`: `added` (joined or invited) or `updated` (a new role)."""
        await self._hub.publish(Envelope(Kind.FRAME, room_id, membership_frame(event, room_id, user, role)))

    async def member_removed(self, room_id: int, user: UserSummary, reason: CloseReason) -> None:
        """Left, kicked or banned: their connections to the room close with `reason`."""
        await self._hub.publish(
            Envelope(Kind.CLOSE_USER, room_id, user_id=user.id, close=reason.reason),
            Envelope(Kind.FRAME, room_id, membership_frame("removed", room_id, user, None)),
        )

    async def room_deleted(self, room_id: int) -> None:
        await self._hub.publish(Envelope(Kind.CLOSE_ROOM, room_id, close=ROOM_DELETED.reason))

    async def account_disabled(self, user_id: int) -> None:
        await self._hub.publish(Envelope(Kind.CLOSE_ACCOUNT, user_id=user_id, close=ACCOUNT_DISABLED.reason))

    async def tokens_revoked(self, user_id: int) -> None:
        """A logout-all: every connection of the user closes (4401 `token_revoked`)."""
        await self._hub.publish(Envelope(Kind.CLOSE_ACCOUNT, user_id=user_id, close=TOKEN_REVOKED.reason))
