from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.auth.schemas import UserSummary
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


class MessageUpdate(BaseModel):
    body: Body


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


class MessagePage(BaseModel):
    messages: list[MessagePublic]
    has_more: bool = Field(description="More messages exist beyond this page, in its direction")


class ChangesPage(BaseModel):
    messages: list[MessagePublic]
    last_rev: int = Field(description="The room's rev of its newest change")
    has_more: bool = Field(description="More changes exist after this page's last rev")
