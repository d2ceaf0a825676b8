"""The WebSocket protocol of SPEC.md: close codes, client frames in, server frames out.

Server frames are serialized here, once, to the text that every connection sends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from api.auth.schemas import UserSummary
from api.messages.schemas import MAX_NONCE, MessagePublic
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

CLOSE_REASONS = {
    close.reason: close
    for close in (
        TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_REVOKED, ROOM_NOT_FOUND, ROOM_DELETED,
        NOT_MEMBER, BANNED, ACCOUNT_DISABLED, INVALID_PARAMETER, REMOVED, LEFT, QUEUE_OVERFLOW,
        FRAME_TOO_BIG, SERVER_RESTART,
    )
}  # fmt: skip


class FrameError(Exception):
    """A client frame was refused; answered with an `error` frame, the connection stays."""

    def __init__(self, code: str, detail: str, nonce: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.nonce = nonce


@dataclass(frozen=True, slots=True)
class SendFrame:
    body: str
    nonce: str | None


@dataclass(frozen=True, slots=True)
class AuthFrame:
    token: str


@dataclass(frozen=True, slots=True)
class TypingFrame:
    pass


@dataclass(frozen=True, slots=True)
class PingFrame:
    pass


ClientFrame = SendFrame | AuthFrame | TypingFrame | PingFrame
_SIMPLE_FRAMES: dict[str, ClientFrame] = {"typing": TypingFrame(), "ping": PingFrame()}


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
    if kind == "message":
        return _parse_send(data)
    if kind == "auth":
        token = data.get("token")
        if not isinstance(token, str):
            raise FrameError("invalid_frame", "an auth frame needs a string field `token`")
        return AuthFrame(token)
    simple = _SIMPLE_FRAMES.get(kind)
    if simple is None:
        raise FrameError("unknown_type", f"unknown frame type {kind[:40]!r}")
    return simple


def _parse_send(data: dict[str, Any]) -> SendFrame:
    nonce = data.get("nonce")
    if nonce is not None and not _valid_nonce(nonce):
        raise FrameError(
            "invalid_frame", f"`nonce` must be a string of 1–{MAX_NONCE} characters, no control characters"
        )
    body = data.get("body")
    if not isinstance(body, str):
        raise FrameError("invalid_frame", "a message frame needs a string field `body`", nonce)
    try:
        return SendFrame(normalize_body(body), nonce)
    except TextError as exc:
        raise FrameError(exc.code, str(exc), nonce) from None


def _valid_nonce(nonce: object) -> bool:
    return (
        isinstance(nonce, str)
        and 1 <= len(nonce) <= MAX_NONCE
        and not has_control_characters(nonce, frozenset())
    )


def dumps(frame: dict[str, Any]) -> str:
    # OPT_UTC_Z: UTC datetimes end in "Z", as pydantic writes them in REST responses.
    return orjson.dumps(frame, option=orjson.OPT_UTC_Z).decode()


def message_payload(message: MessagePublic) -> dict[str, Any]:
    return message.model_dump(mode="json")


def user_payload(user: UserSummary) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "display_name": user.display_name}


def history_frame(payloads: list[dict[str, Any]], *, last_seq: int, truncated: bool) -> str:
    """`payloads`: messages as `messages.service.newest_payloads` reads them."""
    return dumps(
        {
            "type": "history",
            "messages": payloads,
            "last_seq": last_seq,
            "truncated": truncated,
        }
    )


def presence_frame(users: Iterable[UserSummary]) -> str:
    return dumps({"type": "presence", "users": [user_payload(u) for u in users]})


def message_frame(message: MessagePublic, nonce: str | None) -> str:
    return dumps({"type": "message", "message": message_payload(message), "nonce": nonce})


def edit_frame(message: MessagePublic) -> str:
    return dumps({"type": "edit", "message": message_payload(message)})


def delete_frame(room_id: int, seq: int) -> str:
    return dumps({"type": "delete", "room_id": room_id, "seq": seq})


def user_frame(kind: str, user: UserSummary) -> str:
    """`typing`, `join` or `leave`."""
    return dumps({"type": kind, "user": user_payload(user)})


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
    return dumps(frame)


def auth_ok_frame(expires_at: datetime) -> str:
    return dumps({"type": "auth_ok", "expires_at": expires_at.isoformat().replace("+00:00", "Z")})


PONG_FRAME = dumps({"type": "pong"})
