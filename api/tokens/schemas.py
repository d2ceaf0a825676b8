from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.text import clean_line

MAX_EXPIRES_DAYS = 3650
TokenName = Annotated[str, Field(max_length=100), clean_line]


class ApiTokenCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "CI notifications", "expires_days": 90}]}
    )

    name: TokenName = Field(description="1–100 characters on one line: what the token is for")
    # Strict: a whole number of days, not `true`, `"7"` or `7.0`.
    expires_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_EXPIRES_DAYS,
        strict=True,
        description=f"1–{MAX_EXPIRES_DAYS}; without it the token does not expire",
    )


class ApiTokenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None = Field(description="null: it does not expire")
    last_used_at: datetime | None = Field(
        description="Its latest use, at most about a minute behind; null until its first"
    )


class ApiTokenCreated(ApiTokenPublic):
    token: str = Field(description="Shown this once: only a hash of it is kept. Send it as `Bearer`")
