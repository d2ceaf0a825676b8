from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.text import NO_CONTROL_CHARACTERS

Limit = Annotated[int, Query(ge=1, le=500, description="1–500")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
Search = Annotated[
    str | None,
    Query(max_length=200, pattern=NO_CONTROL_CHARACTERS, description="Case-insensitive substring"),
]
