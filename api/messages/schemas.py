from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, field_validator

from api.auth.schemas import UserSummary
from api.ids import MAX_SEQ
from api.text import NO_CONTROL_CHARACTERS, encodable, normalize_body

MAX_BODY = 4000
MAX_NONCE = 64


def _body(value: object) -> object:
    return normalize_body(value) if isinstance(value, str) else value


Body = Annotated[
    str,
    BeforeValidator(_body),
    Field(description=f"1–{MAX_BODY} characters after stripping; no control characters but newline and tab"),
]
Nonce = Annotated[str, Field(min_length=1, max_length=MAX_NONCE, pattern=NO_CONTROL_CHARACTERS), encodable]


class MessageCreate(BaseModel):
    body: Body
    nonce: Nonce | None = Field(
        default=None, description="Client-chosen; the same nonce again returns the stored message"
    )
    reply_to: StrictInt | None = Field(
        default=None, ge=1, le=MAX_SEQ, description="The seq of the message of this room it answers"
    )


class MessageUpdate(BaseModel):
    body: Body


class Reaction(BaseModel):
    emoji: str
    count: int
    users: list[int] = Field(description="Who reacted, in the order they did")


class MessagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    room_id: int
    seq: int
    rev: int = Field(description="The room's rev of this message's latest change")
    author: UserSummary
    body: str
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    reply_to: int | None = Field(default=None, description="The seq of the message this one answers")
    mentions: list[int] = Field(default_factory=list, description="The ids of the members it mentions")
    reactions: list[Reaction] = Field(
        default_factory=list, description="In the order of each emoji's first use"
    )

    @field_validator("mentions", mode="before")
    @classmethod
    def _nobody(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("reactions", mode="before")
    @classmethod
    def _as_stored(cls, value: object) -> object:
        """From a Message row: None, or [{"emoji", "users"}] as the column keeps them."""
        if isinstance(value, list):
            return [
                {"count": len(r["users"]), **r} if isinstance(r, dict) and "count" not in r else r
                for r in value
            ]
        return [] if value is None else value


class MessagePage(BaseModel):
    messages: list[MessagePublic]
    has_more: bool = Field(description="More messages exist beyond this page, in its direction")


class ChangesPage(BaseModel):
    messages: list[MessagePublic]
    last_rev: int = Field(description="The room's rev of its newest change")
    has_more: bool = Field(description="More changes exist after this page's last rev")
