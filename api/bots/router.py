from __future__ import annotations

from fastapi import APIRouter, status

from api.bots import service
from api.bots.schemas import BotCreate, BotCreated
from api.deps import ContextDep, LoginSiteAdmin, SessionDep
from api.errors import Conflict, Forbidden, NotAuthenticated, NotFound, error_responses
from api.tokens.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenPublic

router = APIRouter(
    prefix="/api/admin/bots", tags=["admin"], responses=error_responses(NotAuthenticated, Forbidden)
)

LOGIN_ONLY = "An API token gets 403, also a site admin's: only a login may hand out tokens."


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BotCreated,
    summary="Create a bot",
    description=(
        "**Site admins, with an access token from a login.** A bot is an account for a program: "
        '`"is_bot": true`, no password (logging in as it fails as a wrong password does). The '
        "answer holds its first API token, shown this once; give it to the program, which sends it "
        "as `Authorization: Bearer` or `?token=` on `/ws`. Add the bot to rooms as anyone else "
        "(invite it, or it joins public rooms). Touches no live connection. Written to the audit "
        "log (`bot_create`, and `token_create` for its first token). " + LOGIN_ONLY
    ),
    responses=error_responses(Conflict),
)
async def create_bot(data: BotCreate, admin: LoginSiteAdmin, context: ContextDep) -> BotCreated:
    return await service.create_bot(db=context.db, actor_id=admin.id, data=data)


@router.get(
    "/{user_id}/tokens",
    response_model=list[ApiTokenPublic],
    summary="List a bot's API tokens",
    description=(
        "**Site admins, with an access token from a login.** The bot's tokens that still work, "
        "newest first, without their text; `last_used_at` may lag a token's latest use by about a "
        "minute. A user who is not a bot is 404. Changes nothing. " + LOGIN_ONLY
    ),
    responses=error_responses(NotFound),
)
async def list_bot_tokens(user_id: str, _admin: LoginSiteAdmin, session: SessionDep) -> list[ApiTokenPublic]:
    return await service.bot_tokens(session, user_id=user_id)


@router.post(
    "/{user_id}/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiTokenCreated,
    summary="Make an API token for a bot",
    description=(
        "**Site admins, with an access token from a login.** `token` is shown in this answer only. "
        "It does not expire unless `expires_days` (1–3650) is given. A user who is not a bot is "
        "404. Touches no live connection. Written to the audit log (`token_create`, with the "
        "token's id and name, never the token). " + LOGIN_ONLY
    ),
    responses=error_responses(NotFound),
)
async def create_bot_token(
    user_id: str, data: ApiTokenCreate, admin: LoginSiteAdmin, context: ContextDep
) -> ApiTokenCreated:
    return await service.create_bot_token(db=context.db, admin=admin, user_id=user_id, data=data)


@router.delete(
    "/{user_id}/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a bot's API token",
    description=(
        "**Site admins, with an access token from a login.** The token stops working at once, on "
        "every worker, and the bot's connections opened with it close with 4401 `token_revoked`. "
        "A user who is not a bot, an unknown token, another user's or one already revoked is 404. "
        "Written to the audit log (`token_revoke`). " + LOGIN_ONLY
    ),
    responses=error_responses(NotFound),
)
async def revoke_bot_token(user_id: str, token_id: str, admin: LoginSiteAdmin, context: ContextDep) -> None:
    bot_id, revoked = await service.revoke_bot_token(
        db=context.db, admin=admin, user_id=user_id, token_id=token_id
    )
    await context.events.api_token_revoked(bot_id, revoked)
