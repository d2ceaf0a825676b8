from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.auth.schemas import DisplayName, Username, UserPublic


class BotCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "ci-bot", "display_name": "CI results"}]}
    )

    username: Username = Field(
        description="3–32 ASCII letters, digits, `_`, `-` or `.`; unique ignoring case"
    )
    display_name: DisplayName | None = Field(
        default=None, description="Shown beside its messages; defaults to the username"
    )


class BotCreated(BaseModel):
    user: UserPublic
    token: str = Field(
        description="The bot's first API token, shown this once: give it to the program that runs it"
    )
