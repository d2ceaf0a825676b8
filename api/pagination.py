from __future__ import annotations

from typing import Annotated

from fastapi import Query

Limit = Annotated[int, Query(ge=1, le=500, description="1–500")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
Search = Annotated[str | None, Query(max_length=200, description="Case-insensitive substring")]
