"""Room and user events: what REST routes and the message writer tell live connections.

Every change that someone connected should see goes through here, and from here through
`Hub.publish`, the one publish function.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from api.auth.schemas import UserSummary
from api.messages.schemas import MessagePublic
from api.messages.writer import ReadMoved, Stored
from api.realtime.connection import LOGIN_CREDENTIAL, api_credential
from api.realtime.envelope import Envelope, Kind
from api.realtime.hub import Hub, new_message_envelope
from api.realtime.protocol import (
    ACCOUNT_DISABLED,
    ROOM_DELETED,
    TOKEN_REVOKED,
    CloseReason,
    announcement_frame,
    delete_frame,
    edit_frame,
    membership_frame,
    reaction_frame,
    read_frame,
    room_added_frame,
    room_removed_frame,
    user_frame,
)
from api.rooms.schemas import RoomPublic


class RoomEvents:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    # --- changes to messages (numbered by rev) ----------------------------

    async def messages_stored(self, stored: Sequence[Stored], reads: Sequence[ReadMoved]) -> None:
        """New messages, and their authors' read cursors, which moved to them."""
        await self._hub.publish(
            *(new_message_envelope(s.message.model_dump(), s.nonce) for s in stored),
            *(_read(r.room_id, r.user_id, r.read_seq, r.unread, r.mentions) for r in reads),
        )

    async def read_moved(self, room_id: int, user_id: int, read_seq: int, unread: int, mentions: int) -> None:
        await self._hub.publish(_read(room_id, user_id, read_seq, unread, mentions))

    async def message_edited(self, message: MessagePublic) -> None:
        frame = edit_frame(message.model_dump())
        await self._hub.publish(
            Envelope(Kind.CHANGE, message.room_id, frame, rev=message.rev, seq=message.seq, event="edit")
        )

    async def message_deleted(self, room_id: int, seq: int, rev: int) -> None:
        frame = delete_frame(room_id, seq, rev)
        await self._hub.publish(Envelope(Kind.CHANGE, room_id, frame, rev=rev, seq=seq, event="delete"))

    async def reacted(
        self, room_id: int, seq: int, emoji: str, user: UserSummary, *, added: bool, rev: int
    ) -> None:
        frame = reaction_frame(room_id, seq, emoji, user, added=added, rev=rev)
        await self._hub.publish(Envelope(Kind.CHANGE, room_id, frame, rev=rev, seq=seq, event="reaction"))

    # --- the room's other frames ------------------------------------------

    async def typing(self, room_id: int, user: UserSummary) -> None:
        await self._hub.publish(
            Envelope(Kind.FRAME, room_id, user_frame("typing", room_id, user), user_id=user.id)
        )

    async def room_created(self, room: RoomPublic, owner_id: int) -> None:
        await self._hub.publish(_room_added(room, "owner", owner_id))

    async def member_added(self, room: RoomPublic, user: UserSummary, role: str) -> None:
        """Joined, invited, or in a direct room opened for the first time."""
        await self._hub.publish(
            Envelope(Kind.FRAME, room.id, membership_frame("added", room.id, user, role)),
            _room_added(room, role, user.id),
        )

    async def direct_opened(self, room: RoomPublic, member_ids: Sequence[int]) -> None:
        await self._hub.publish(*(_room_added(room, "member", user_id) for user_id in member_ids))

    async def role_changed(self, room: RoomPublic, user: UserSummary, role: str) -> None:
        await self._hub.publish(
            Envelope(Kind.FRAME, room.id, membership_frame("updated", room.id, user, role)),
            Envelope(
                Kind.USER, room.id, room_added_frame("room_updated", _json(room), role), user_ids=(user.id,)
            ),
        )

    async def member_removed(self, room_id: int, user: UserSummary, reason: CloseReason) -> None:
        """Left, kicked or banned: their subscriptions to the room end with `reason`."""
        await self._hub.publish(
            Envelope(Kind.END_USER, room_id, user_id=user.id, close=reason.reason),
            Envelope(Kind.FRAME, room_id, membership_frame("removed", room_id, user, None)),
            Envelope(
                Kind.USER,
                room_id,
                room_removed_frame(room_id, reason.reason),
                user_ids=(user.id,),
                event="removed",
            ),
        )

    async def room_updated(self, room: RoomPublic, roles: Iterable[tuple[int, str]]) -> None:
        """Its name, description or privacy changed: every member hears, with their role."""
        by_role: defaultdict[str, list[int]] = defaultdict(list)
        for user_id, role in roles:
            by_role[role].append(user_id)
        await self._hub.publish(
            *(
                Envelope(
                    Kind.USER,
                    room.id,
                    room_added_frame("room_updated", _json(room), role),
                    user_ids=tuple(ids),
                )
                for role, ids in by_role.items()
            )
        )

    async def room_deleted(self, room_id: int, member_ids: Iterable[int]) -> None:
        await self._hub.publish(
            Envelope(Kind.END_ROOM, room_id, close=ROOM_DELETED.reason),
            Envelope(
                Kind.USER,
                room_id,
                room_removed_frame(room_id, ROOM_DELETED.reason),
                user_ids=tuple(member_ids),
                event="removed",
            ),
        )

    async def member_renamed(self, user: UserSummary, roles: Sequence[tuple[int, str]]) -> None:
        """A new display name: each room of the user hears it (a `membership` frame with
        event `renamed`), so open pages can show the new name without a reload."""
        if not roles:
            return
        await self._hub.publish(
            *(
                Envelope(
                    Kind.FRAME, room_id, membership_frame("renamed", room_id, user, role), event="renamed"
                )
                for room_id, role in roles
            )
        )

    # --- the whole server ----------------------------------------------------

    async def announce(self, body: str, sender: UserSummary, created_at: datetime) -> None:
        """Every open connection, room sockets and /ws, on every worker."""
        await self._hub.publish(Envelope(Kind.BROADCAST, frame=announcement_frame(body, sender, created_at)))

    # --- accounts ------------------------------------------------------------

    async def account_disabled(self, user_id: int) -> None:
        await self.close_connections(user_id, ACCOUNT_DISABLED)

    async def close_connections(self, user_id: int, reason: CloseReason, credential: str = "") -> None:
        """Close the user's connections on every worker: all of them, or those opened with
        `credential`."""
        await self._hub.publish(
            Envelope(Kind.CLOSE, user_id=user_id, close=reason.reason, credential=credential)
        )

    async def api_token_revoked(self, user_id: int, token_id: int) -> None:
        """The connections opened with (or switched to) that API token close (4401
        `token_revoked`), on every worker."""
        await self.close_connections(user_id, TOKEN_REVOKED, credential=api_credential(token_id))

    async def tokens_revoked(self, user_id: int) -> None:
        """A logout-all: the user's connections opened with a login access token close (4401
        `token_revoked`); those of their API tokens stay."""
        await self.close_connections(user_id, TOKEN_REVOKED, credential=LOGIN_CREDENTIAL)


def _json(room: RoomPublic) -> dict[str, object]:
    return room.model_dump(mode="json")


def _room_added(room: RoomPublic, role: str, user_id: int) -> Envelope:
    return Envelope(
        Kind.USER,
        room.id,
        room_added_frame("room_added", _json(room), role),
        user_ids=(user_id,),
        event="added",
    )


def _read(room_id: int, user_id: int, read_seq: int, unread: int, mentions: int) -> Envelope:
    frame = read_frame(room_id, read_seq, unread, mentions)
    return Envelope(Kind.USER, room_id, frame, user_ids=(user_id,), event="read")
