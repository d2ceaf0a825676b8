"""Writing and reading the audit log, free of HTTP.

`record` adds an entry to the caller's own write session, so the entry commits with the
act it describes, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit.models import AuditAction, AuditEntry
from api.audit.schemas import AuditEntryPublic, AuditPage
from api.db import utcnow


def record(
    session: AsyncSession,
    *,
    actor_id: int,
    action: AuditAction,
    room_id: int | None = None,
    target_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Add an entry to `session`, inside the transaction that performs the act.

    `detail` is JSON shown to every site admin: never a token, an invite code or a password.
    """
    session.add(
        AuditEntry(
            at=utcnow(),
            actor_id=actor_id,
            action=AuditAction(action),
            room_id=room_id,
            target_id=target_id,
            detail=dict(detail) if detail is not None else None,
        )
    )


async def page(session: AsyncSession, *, before: int | None, limit: int) -> AuditPage:
    """Newest first; `before` continues after the entry with that id (keyset paging)."""
    query = select(AuditEntry)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = (await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1))).all()
    return AuditPage(
        entries=[AuditEntryPublic.model_validate(entry) for entry in rows[:limit]],
        has_more=len(rows) > limit,
    )
