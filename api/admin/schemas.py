from __future__ import annotations

from pydantic import BaseModel

from api.auth.schemas import UserPublic


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
