from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.auth.schemas import AccountFields, UserPublic, UserSummary
from api.messages.schemas import Body


class UserAdmin(UserPublic):
    is_active: bool


class UserAdminUpdate(BaseModel):
    is_active: bool | None = Field(default=None, description="false deactivates, true reactivates")
    is_admin: bool | None = Field(
        default=None, description="true grants site admin rights, false removes them"
    )


class Stats(BaseModel):
    users: int
    rooms: int
    messages: int
    connections: int


class UserCreate(AccountFields):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "grace", "password": "a long first password"}]}
    )

    is_admin: bool = False


class AnnouncementCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"body": "The server restarts for an upgrade at 18:00 UTC."}]}
    )

    body: Body


class AnnouncementPublic(BaseModel):
    """What every open connection got, as its `announcement` frame has it."""

    model_config = ConfigDict(populate_by_name=True)

    body: str
    sender: UserSummary = Field(alias="from")
    created_at: datetime
