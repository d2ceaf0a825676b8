"""Bot accounts and their tokens, free of HTTP.

A bot is a user with `is_bot` and no password: nobody can log in as it, so its API tokens,
which site admins make and revoke here, are its only way in. Each of these acts is written
to the audit log in its own transaction (never the token itself).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit.models import AuditAction
from api.audit.service import record
from api.auth.models import User
from api.auth.passwords import NO_PASSWORD
from api.auth.schemas import UserPublic
from api.auth.service import add_user, new_user
from api.bots.schemas import BotCreate, BotCreated
from api.db import Database
from api.errors import NotFound
from api.ids import parse_id
from api.tokens import service as api_tokens
from api.tokens.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenPublic

FIRST_TOKEN_NAME = "default"


async def create_bot(*, db: Database, actor_id: int | None, data: BotCreate) -> BotCreated:
    """A bot and its first token. `actor_id`: the site admin who made it, for the audit log
    (None from the command line, which the log does not cover, as for `create-admin`)."""
    bot = new_user(data, NO_PASSWORD, is_bot=True)  # a taken username: Conflict from add_user
    async with db.writing() as session:
        await add_user(session, bot)
        token = await api_tokens.add_token(
            session, user_id=bot.id, data=ApiTokenCreate(name=FIRST_TOKEN_NAME)
        )
        if actor_id is not None:
            record(session, actor_id=actor_id, action=AuditAction.bot_create, target_id=bot.id)
            _record_token(session, AuditAction.token_create, actor_id, bot.id, token.id, token.name)
    return BotCreated(user=UserPublic.model_validate(bot), token=token.token)


async def bot_tokens(session: AsyncSession, *, user_id: str) -> list[ApiTokenPublic]:
    bot = await _bot(session, user_id)
    return await api_tokens.listing(session, user_id=bot.id)


async def create_bot_token(
    *, db: Database, admin: User, user_id: str, data: ApiTokenCreate
) -> ApiTokenCreated:
    async with db.writing() as session:
        bot = await _bot(session, user_id)
        token = await api_tokens.add_token(session, user_id=bot.id, data=data)
        _record_token(session, AuditAction.token_create, admin.id, bot.id, token.id, token.name)
    return token


async def revoke_bot_token(*, db: Database, admin: User, user_id: str, token_id: str) -> tuple[int, int]:
    """(the bot's id, the token's id); the caller closes the token's connections."""
    async with db.writing() as session:
        bot = await _bot(session, user_id)
        token = await api_tokens.revoke_in(session, user_id=bot.id, token_id=token_id)
        _record_token(session, AuditAction.token_revoke, admin.id, bot.id, token.id, token.name)
    return bot.id, token.id


async def _bot(session: AsyncSession, user_id: str) -> User:
    """The bot `user_id` names; 404 for anyone else (a person, nobody, a malformed id)."""
    target = parse_id(user_id)
    bot = await session.scalar(select(User).where(User.id == (target or 0), User.is_bot))
    if bot is None:
        raise NotFound("Bot not found")
    return bot


def _record_token(
    session: AsyncSession, action: AuditAction, actor_id: int, bot_id: int, token_id: int, name: str
) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        target_id=bot_id,
        detail={"token_id": token_id, "name": name},
    )
