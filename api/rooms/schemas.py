from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.auth.schemas import Username, UserSummary
from api.rooms.models import Role, RoomKind
from api.text import clean_line, clean_text

MAX_NAME = 64


def _key_fits(value: str) -> str:
    """Names are unique ignoring case through a lower-cased key of MAX_NAME characters, and
    `"İ".lower()` is two characters: a name that cannot have a key is refused, not a 503."""
    if len(value.lower()) > MAX_NAME:
        raise ValueError(f"must be at most {MAX_NAME} characters, also in lower case")
    return value


RoomName = Annotated[str, Field(max_length=MAX_NAME), clean_line, AfterValidator(_key_fits)]
Description = Annotated[str, Field(max_length=1000), clean_text]


class RoomCreate(BaseModel):
    name: RoomName = Field(description="1–64 characters, unique ignoring case")
    description: Description = ""
    is_private: bool = False


class RoomUpdate(BaseModel):
    name: RoomName | None = None
    description: Description | None = None
    is_private: bool | None = None


class RoomPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: RoomKind = Field(description="`direct`: a conversation of two people (`POST /api/direct`)")
    name: str
    description: str
    is_private: bool
    created_at: datetime
    member_count: int
    last_seq: int
    last_rev: int


class MembershipPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    room_id: int
    user: UserSummary
    role: Role
    joined_at: datetime


class MemberUser(UserSummary):
    is_bot: bool


class MemberPublic(BaseModel):
    user: MemberUser
    role: Role
    joined_at: datetime
    online: bool


class InviteRequest(BaseModel):
    username: Username
    role: Role = Role.member


class RoleUpdate(BaseModel):
    role: Role


class BanRequest(BaseModel):
    user_id: int


class BanPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user: UserSummary
    banned_at: datetime
    banned_by: UserSummary | None
