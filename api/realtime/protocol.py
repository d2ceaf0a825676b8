"""The WebSocket protocol of SPEC.md: close codes, client frames in, server frames out.

Server frames are serialized here, once, to the text that every connection sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from api.auth.schemas import UserSummary
from api.ids import MAX_SEQ
from api.messages.schemas import MAX_NONCE
from api.text import TextError, has_control_characters, normalize_body


@dataclass(frozen=True, slots=True)
class CloseReason:
    code: int
    reason: str


TOKEN_MISSING = CloseReason(4401, "token_missing")
TOKEN_INVALID = CloseReason(4401, "token_invalid")
TOKEN_EXPIRED = CloseReason(4401, "token_expired")
TOKEN_REVOKED = CloseReason(4401, "token_revoked")
ROOM_NOT_FOUND = CloseReason(4404, "room_not_found")
ROOM_DELETED = CloseReason(4404, "room_deleted")
NOT_MEMBER = CloseReason(1008, "not_member")
BANNED = CloseReason(1008, "banned")
ACCOUNT_DISABLED = CloseReason(1008, "account_disabled")
INVALID_PARAMETER = CloseReason(1008, "invalid_parameter")
REMOVED = CloseReason(1008, "removed")
LEFT = CloseReason(1008, "left")
QUEUE_OVERFLOW = CloseReason(1013, "queue_overflow")
FRAME_TOO_BIG = CloseReason(1009, "frame_too_big")
SERVER_RESTART = CloseReason(1012, "server_restart")
# Only ever an `unsubscribed` reason on /ws, never a close.
UNSUBSCRIBED = CloseReason(1000, "unsubscribed")
TOO_MANY_SUBSCRIPTIONS = CloseReason(1008, "too_many_subscriptions")

CLOSE_REASONS = {
    close.reason: close
    for close in (
        TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_REVOKED, ROOM_NOT_FOUND, ROOM_DELETED,
        NOT_MEMBER, BANNED, ACCOUNT_DISABLED, INVALID_PARAMETER, REMOVED, LEFT, QUEUE_OVERFLOW,
        FRAME_TOO_BIG, SERVER_RESTART, UNSUBSCRIBED, TOO_MANY_SUBSCRIPTIONS,
    )
}  # fmt: skip


class FrameError(Exception):
    """A client frame was refused; answered with an `error` frame, the connection stays."""

    def __init__(self, code: str, detail: str, nonce: str | None = None, room_id: object = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.nonce = nonce
        self.room_id = room_id


# `room_id` on a client frame: what the client sent (echoed back as sent), or None when the
# frame named none. Room sockets ignore it; on /ws the frames that act in a room need it.
RoomRef = object


@dataclass(frozen=True, slots=True)
class SendFrame:
    body: str
    nonce: str | None
    room_id: RoomRef = None
    reply_to: int | None = None


@dataclass(frozen=True, slots=True)
class ReadFrame:
    seq: int
    room_id: RoomRef = None


@dataclass(frozen=True, slots=True)
class AuthFrame:
    token: str


@dataclass(frozen=True, slots=True)
class TypingFrame:
    room_id: RoomRef = None


@dataclass(frozen=True, slots=True)
class PingFrame:
    pass


@dataclass(frozen=True, slots=True)
class RoomRequest:
    """One room of a `subscribe` frame. `problem` is set when its since/since_rev is refused:
    the subscription is then refused with `invalid_parameter`, the others go ahead."""

    room_id: RoomRef
    since: int | None = None
    since_rev: int | None = None
    problem: bool = False


@dataclass(frozen=True, slots=True)
class SubscribeFrame:
    rooms: tuple[RoomRequest, ...]


@dataclass(frozen=True, slots=True)
class UnsubscribeFrame:
    room_id: RoomRef


ClientFrame = SendFrame | ReadFrame | AuthFrame | TypingFrame | PingFrame | SubscribeFrame | UnsubscribeFrame
MAX_ROOMS_PER_SUBSCRIBE = 100


def parse_client_frame(text: str) -> ClientFrame:
    """The frame `text` carries, or FrameError with the spec's error code."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise FrameError("invalid_json", "frames must be JSON") from None
    if not isinstance(data, dict):
        raise FrameError("invalid_frame", "a frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise FrameError("invalid_frame", "a frame needs a string field `type`")
    parse = _PARSERS.get(kind)
    if parse is None:
        raise FrameError("unknown_type", f"unknown frame type {kind[:40]!r}", room_id=_room_ref(data))
    return parse(data)


def nonce_of(text: str) -> tuple[str | None, RoomRef]:
    """The nonce and room of a frame that will not be handled (over the frame cap), so the
    refusal can name the send it refuses; (None, None) when there is none to find."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    nonce = data.get("nonce")
    return (nonce if _valid_nonce(nonce) else None), _room_ref(data)


def _room_ref(data: dict[str, Any]) -> RoomRef:
    """The `room_id` a frame names, when it is one an id could be (an integer or a string)."""
    room_id = data.get("room_id")
    if isinstance(room_id, bool) or not isinstance(room_id, int | str):
        return None
    return room_id


def _require_room_ref(data: dict[str, Any], kind: str) -> RoomRef:
    if "room_id" in data and _room_ref(data) is None:
        raise FrameError("invalid_frame", f"`room_id` of a {kind} frame must be an id")
    return _room_ref(data)


def _parse_send(data: dict[str, Any]) -> SendFrame:
    room_id = _require_room_ref(data, "message")
    nonce = data.get("nonce")
    if nonce is not None and not _valid_nonce(nonce):
        raise FrameError(
            "invalid_frame",
            f"`nonce` must be a string of 1–{MAX_NONCE} characters, no control characters",
            room_id=room_id,
        )
    body = data.get("body")
    if not isinstance(body, str):
        raise FrameError("invalid_frame", "a message frame needs a string field `body`", nonce, room_id)
    reply_to = data.get("reply_to")
    if reply_to is not None and not _is_integer(reply_to):
        raise FrameError(
            "invalid_frame", "`reply_to` must be the seq (an integer) of a message", nonce, room_id
        )
    if reply_to is not None and not 1 <= reply_to <= MAX_SEQ:
        raise FrameError("invalid_reply", "`reply_to` names no message of this room", nonce, room_id)
    try:
        return SendFrame(normalize_body(body), nonce, room_id, reply_to)
    except TextError as exc:
        raise FrameError(exc.code, str(exc), nonce, room_id) from None


def _parse_read(data: dict[str, Any]) -> ReadFrame:
    room_id = _require_room_ref(data, "read")
    seq = data.get("seq")
    if not _position(seq):
        raise FrameError(
            "invalid_frame", "a read frame needs `seq`, an integer of 0 or more", room_id=room_id
        )
    assert isinstance(seq, int)
    return ReadFrame(seq, room_id)


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_auth(data: dict[str, Any]) -> AuthFrame:
    token = data.get("token")
    if not isinstance(token, str):
        raise FrameError("invalid_frame", "an auth frame needs a string field `token`")
    return AuthFrame(token)


def _parse_subscribe(data: dict[str, Any]) -> SubscribeFrame:
    if "rooms" not in data:
        return SubscribeFrame((_room_request(data),))
    rooms = data["rooms"]
    if not isinstance(rooms, list) or not 1 <= len(rooms) <= MAX_ROOMS_PER_SUBSCRIBE:
        raise FrameError("invalid_frame", f"`rooms` must be a list of 1–{MAX_ROOMS_PER_SUBSCRIBE} rooms")
    if not all(isinstance(room, dict) for room in rooms):
        raise FrameError("invalid_frame", "each of `rooms` must be an object with a `room_id`")
    return SubscribeFrame(tuple(_room_request(room) for room in rooms))


def _room_request(data: dict[str, Any]) -> RoomRequest:
    room_id = _room_ref(data)
    if room_id is None:
        raise FrameError("invalid_frame", "a subscription needs a `room_id`")
    since, since_rev = data.get("since"), data.get("since_rev")
    problem = (
        (since is not None and since_rev is not None)
        or (since is not None and not _position(since))
        or (since_rev is not None and not _position(since_rev))
    )
    if problem:
        return RoomRequest(room_id, problem=True)
    return RoomRequest(room_id, since, since_rev)


def _position(value: object) -> bool:
    """`since` and `since_rev` in a frame: JSON integers from 0 to MAX_SEQ."""
    return _is_integer(value) and 0 <= value <= MAX_SEQ  # type: ignore[operator]


def _parse_unsubscribe(data: dict[str, Any]) -> UnsubscribeFrame:
    room_id = _room_ref(data)
    if room_id is None:
        raise FrameError("invalid_frame", "an unsubscribe frame needs a `room_id`")
    return UnsubscribeFrame(room_id)


_PARSERS: dict[str, Callable[[dict[str, Any]], ClientFrame]] = {
    "message": _parse_send,
    "read": _parse_read,
    "auth": _parse_auth,
    "typing": lambda data: TypingFrame(_require_room_ref(data, "typing")),
    "ping": lambda data: PingFrame(),
    "subscribe": _parse_subscribe,
    "unsubscribe": _parse_unsubscribe,
}


def _valid_nonce(nonce: object) -> bool:
    return (
        isinstance(nonce, str)
        and 1 <= len(nonce) <= MAX_NONCE
        and not has_control_characters(nonce, frozenset())
    )


def dumps(frame: dict[str, Any]) -> str:
    # OPT_UTC_Z: UTC datetimes end in "Z", as pydantic writes them in REST responses.
    return orjson.dumps(frame, option=orjson.OPT_UTC_Z).decode()


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def user_payload(user: UserSummary) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "display_name": user.display_name}


# Frames of one room carry its `room_id` at the top level, on room sockets too: one text,
# serialized once, serves both endpoints. `payload`s are messages as MessagePublic serializes
# them (`messages.service.Payload`).


def history_frame(
    room_id: int, payloads: Sequence[object], *, last_seq: int, last_rev: int, truncated: bool
) -> str:
    """`payloads`: messages as dicts, or as JSON already (`orjson.Fragment`s)."""
    return dumps(
        {
            "type": "history",
            "room_id": room_id,
            "messages": payloads,
            "last_seq": last_seq,
            "last_rev": last_rev,
            "truncated": truncated,
        }
    )


def presence_frame(room_id: int, users: Iterable[UserSummary]) -> str:
    return dumps({"type": "presence", "room_id": room_id, "users": [user_payload(u) for u in users]})


def message_frame(payload: dict[str, Any], nonce: str | None) -> str:
    message = dumps(payload)
    return (
        f'{{"type":"message","room_id":{payload["room_id"]},"message":{message},'
        f'"nonce":{orjson.dumps(nonce).decode()},"rev":{payload["rev"]}}}'
    )


def edit_frame(payload: dict[str, Any]) -> str:
    message = dumps(payload)
    return f'{{"type":"edit","room_id":{payload["room_id"]},"message":{message},"rev":{payload["rev"]}}}'


def payload_of(frame: str) -> bytes:
    """The message's JSON inside a `message` or `edit` frame made above, without parsing it:
    the frame is built around it, so it starts after a known prefix and ends before the
    frame's own `nonce` or `rev`, its last fields. `rindex` finds those although the message
    has a `rev` of its own; and no string holds `,"nonce":` (its quotes would be escaped)."""
    start = frame.index(',"message":', len('{"type":"edit","room_id":')) + len(',"message":')
    end = frame.rindex(',"nonce":') if frame.startswith('{"type":"message"') else frame.rindex(',"rev":')
    return frame[start:end].encode()


def delete_frame(room_id: int, seq: int, rev: int) -> str:
    return dumps({"type": "delete", "room_id": room_id, "seq": seq, "rev": rev})


def reaction_frame(room_id: int, seq: int, emoji: str, user: UserSummary, *, added: bool, rev: int) -> str:
    return dumps(
        {
            "type": "reaction",
            "room_id": room_id,
            "seq": seq,
            "emoji": emoji,
            "user": user_payload(user),
            "added": added,
            "rev": rev,
        }
    )


def user_frame(kind: str, room_id: int, user: UserSummary) -> str:
    """`typing`, `join` or `leave`."""
    return dumps({"type": kind, "room_id": room_id, "user": user_payload(user)})


def membership_frame(event: str, room_id: int, user: UserSummary, role: str | None) -> str:
    """Hubbub's addition to the spec: REST membership changes, live."""
    return dumps(
        {
            "type": "membership",
            "event": event,
            "room_id": room_id,
            "user": user_payload(user),
            "role": role,
        }
    )


def error_frame(error: FrameError) -> str:
    frame: dict[str, Any] = {"type": "error", "code": error.code, "detail": error.detail}
    if error.nonce is not None:
        frame["nonce"] = error.nonce
    if error.room_id is not None:
        frame["room_id"] = error.room_id
    return dumps(frame)


def auth_ok_frame(expires_at: datetime | None) -> str:
    return dumps({"type": "auth_ok", "expires_at": _time(expires_at)})


def ready_frame(user: UserSummary, expires_at: datetime | None) -> str:
    return dumps({"type": "ready", "user": user_payload(user), "expires_at": _time(expires_at)})


def unsubscribed_frame(room_id: object, reason: str) -> str:
    return dumps({"type": "unsubscribed", "room_id": room_id, "reason": reason})


def room_added_frame(kind: str, room: dict[str, Any], role: str) -> str:
    """`room_added` or `room_updated`; `room` as RoomPublic serializes it."""
    return dumps({"type": kind, "room": room, "role": role})


def room_removed_frame(room_id: int, reason: str) -> str:
    return dumps({"type": "room_removed", "room_id": room_id, "reason": reason})


def read_frame(room_id: int, read_seq: int, unread: int, mentions: int) -> str:
    return dumps(
        {"type": "read", "room_id": room_id, "read_seq": read_seq, "unread": unread, "mentions": mentions}
    )


def announcement_frame(body: str, sender: UserSummary, created_at: datetime) -> str:
    """A site admin's announcement, for every open connection."""
    return dumps(
        {"type": "announcement", "body": body, "from": user_payload(sender), "created_at": _time(created_at)}
    )


_NOT_MENTIONED = '"mention":false}'
_MENTIONED = '"mention":true}'


def activity_frame(room_id: int, seq: int, author: UserSummary) -> str:
    """The `activity` frame of a new message, as its unmentioned members get it;
    `mentioned_activity` turns it into what the members it mentions get."""
    text = dumps(
        {"type": "activity", "room_id": room_id, "seq": seq, "author": user_payload(author), "mention": False}
    )
    assert text.endswith(_NOT_MENTIONED)
    return text


def mentioned_activity(text: str) -> str:
    return text[: -len(_NOT_MENTIONED)] + _MENTIONED


PONG_FRAME = dumps({"type": "pong"})
