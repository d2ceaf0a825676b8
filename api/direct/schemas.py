from __future__ import annotations

from pydantic import BaseModel, Field

from api.auth.schemas import Username


class DirectRequest(BaseModel):
    username: Username = Field(
        description="The other person, ignoring case; your own for a room with yourself"
    )
