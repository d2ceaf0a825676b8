"""The dependencies routes declare, each named once with `Annotated`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from api import logs
from api.auth.exceptions import AuthError
from api.auth.models import User
from api.auth.service import authenticate_access_token
from api.config import Settings
from api.context import AppContext
from api.db import Database
from api.errors import Forbidden, NotAuthenticated


def get_context(connection: HTTPConnection) -> AppContext:
    context: AppContext = connection.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_settings(context: ContextDep) -> Settings:
    return context.settings


def get_database(context: ContextDep) -> Database:
    return context.db


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_session(db: DatabaseDep) -> AsyncIterator[AsyncSession]:
    async with db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

bearer_token = OAuth2PasswordBearer(tokenUrl="/api/auth/login", auto_error=False)


async def get_current_user(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(bearer_token)]
) -> User:
    try:
        authenticated = await authenticate_access_token(session=session, settings=settings, token=token)
    except AuthError as exc:
        raise NotAuthenticated(exc.detail) from exc
    logs.user_id.set(authenticated.user.id)
    return authenticated.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_site_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("Site administrators only")
    return user


SiteAdmin = Annotated[User, Depends(get_site_admin)]
