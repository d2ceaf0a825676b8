from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from api.auth.schemas import AccountFields, UserPublic


class UserAdmin(UserPublic):
    is_active: bool


class UserAdminUpdate(BaseModel):
    is_active: bool | None = None
    is_admin: bool | None = None


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
