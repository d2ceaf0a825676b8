from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.auth.schemas import AccountFields, UserPublic


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
