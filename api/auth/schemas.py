from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.config import SignupMode
from api.text import clean_line

USERNAME_PATTERN = r"^[A-Za-z0-9_.\-]{3,32}$"

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
Password = Annotated[str, Field(min_length=8, max_length=128)]
DisplayName = Annotated[str, Field(max_length=64), clean_line]


class AccountFields(BaseModel):
    username: Username = Field(description="3–32 ASCII letters, digits, `_`, `-` or `.`")
    password: Password = Field(description="8–128 characters")
    display_name: DisplayName | None = Field(
        default=None, description="Shown beside messages; defaults to the username"
    )


class SignupRequest(AccountFields):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "ada", "password": "correct horse battery"}]}
    )

    invite: str | None = Field(
        default=None,
        max_length=256,
        description="An invite code from a site admin; needed when signup is invite-only, ignored otherwise",
    )


class AuthConfig(BaseModel):
    signup: SignupMode = Field(
        description="`open`: anyone signs up; `invite`: signup needs an invite code; `closed`: admins "
        "create accounts"
    )


class SessionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    last_used_at: datetime = Field(description="The login, or its latest refresh")
    user_agent: str | None
    current: bool = Field(description="The session the calling access token belongs to")


class RefreshRequest(BaseModel):
    refresh_token: str = Field(max_length=4096)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class UserSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str


class UserPublic(UserSummary):
    is_admin: bool
    is_bot: bool = Field(description="A program's account (made by a site admin); it cannot log in")
    created_at: datetime


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"display_name": "Ada Lovelace"}]})

    display_name: DisplayName = Field(description="1–64 characters on one line; shown beside messages")


class PasswordChange(BaseModel):
    # The current password is only compared, so any string the login form could take
    # is allowed; a wrong one is a 403, not a 422.
    current_password: str = Field(min_length=1, max_length=4096)
    new_password: Password = Field(description="8–128 characters")


class InviteCreate(BaseModel):
    # Strict: a positive integer, not `true`, `"7"` or `7.0`.
    expires_days: int = Field(default=7, ge=1, le=3650, strict=True, description="1–3650, default 7")
    uses: int = Field(default=1, ge=1, le=1_000_000, strict=True, description="Signups it allows, default 1")


class InvitePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str = Field(description="What a person signs up with (the `invite` field of a signup)")
    expires_at: datetime
    uses_left: int
    created_at: datetime
