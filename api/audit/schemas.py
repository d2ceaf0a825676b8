from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from api.audit.models import AuditAction
from api.auth.schemas import UserSummary


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: UserSummary
    action: AuditAction
    room_id: int | None
    target: UserSummary | None
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    entries: list[AuditEntryPublic]
    has_more: bool
