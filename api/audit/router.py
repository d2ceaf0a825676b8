from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.audit import service
from api.audit.schemas import AuditPage
from api.deps import SessionDep, SiteAdmin
from api.errors import Forbidden, NotAuthenticated, error_responses
from api.ids import MAX_SEQ

router = APIRouter(
    prefix="/api/admin", tags=["admin"], responses=error_responses(NotAuthenticated, Forbidden)
)


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="Read the audit log",
    description=(
        "**Site admins.** Every moderation and administration act, newest first: kicks, bans, "
        "role changes, room changes and deletions, messages deleted by someone other than their "
        "author, account and admin-rights changes, bots, bot tokens, announcements, accounts "
        "and invites made by admins. Each entry was written in the same transaction as its act. "
        "To read further back, pass the last entry's `id` as `before` while `has_more` is true. "
        "Reading it changes nothing and touches no live connection."
    ),
)
async def read_audit_log(
    _admin: SiteAdmin,
    session: SessionDep,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="An entry `id`: the page continues after it")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="1–200")] = 50,
) -> AuditPage:
    return await service.page(session, before=before, limit=limit)
