from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import ContextDep, LoginAccess, SessionDep
from api.errors import Forbidden, NotAuthenticated, NotFound, error_responses
from api.tokens import service
from api.tokens.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenPublic

router = APIRouter(tags=["auth"], responses=error_responses(NotAuthenticated, Forbidden))

NEEDS_LOGIN = (
    "Needs an access token from a login: an API token gets 403 here, so a leaked one cannot "
    "make more or hide itself."
)


@router.post(
    "/api/me/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiTokenCreated,
    summary="Make an API token",
    description=(
        "A long-lived token for a program acting as you: send it as `Authorization: Bearer` or as "
        "`?token=` on the WebSocket endpoints, wherever an access token goes. `token` is shown in "
        "this answer only (Hubbub keeps a hash of it); it starts with `hbb_`, so secret scanners "
        "spot a leaked one. It does not expire unless `expires_days` (1–3650) is given. " + NEEDS_LOGIN
    ),
)
async def create_token(data: ApiTokenCreate, caller: LoginAccess, context: ContextDep) -> ApiTokenCreated:
    return await service.create_token(db=context.db, user_id=caller.user.id, data=data)


@router.get(
    "/api/me/tokens",
    response_model=list[ApiTokenPublic],
    summary="Your API tokens",
    description=(
        "The tokens that still work (not revoked, not expired), newest first, without their text. "
        "`last_used_at` is set from a token's first use on and may lag its latest use by about a "
        "minute. " + NEEDS_LOGIN
    ),
)
async def list_tokens(caller: LoginAccess, session: SessionDep) -> list[ApiTokenPublic]:
    return await service.listing(session, user_id=caller.user.id)


@router.delete(
    "/api/me/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API token",
    description=(
        "It stops working at once, on every worker, and connections opened with it close with "
        "4401 `token_revoked`. An unknown id, another user's token or one already revoked is "
        "404. " + NEEDS_LOGIN
    ),
    responses=error_responses(NotFound),
)
async def revoke_token(token_id: str, caller: LoginAccess, context: ContextDep) -> None:
    revoked = await service.revoke_token(db=context.db, user_id=caller.user.id, token_id=token_id)
    await context.events.api_token_revoked(caller.user.id, revoked)
