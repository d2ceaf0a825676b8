"""The dependencies routes declare, each named once with `Annotated`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from api import logs
from api.auth.exceptions import AuthError
from api.auth.models import User
from api.auth.service import Authenticated, authenticate_access_token
from api.auth.throttle import address_key
from api.config import Settings
from api.context import AppContext
from api.db import Database
from api.errors import Forbidden, NotAuthenticated

# Every dependency is `async def`, however trivial: FastAPI runs a plain `def` one in a
# thread of its pool, a hop to another thread and back (and a fight for the GIL) per
# dependency per request. tests/test_dependencies.py keeps it so.


async def get_context(connection: HTTPConnection) -> AppContext:
    context: AppContext = connection.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_settings(context: ContextDep) -> Settings:
    return context.settings


async def get_database(context: ContextDep) -> Database:
    return context.db


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_session(db: DatabaseDep) -> AsyncIterator[AsyncSession]:
    async with db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

bearer_token = OAuth2PasswordBearer(tokenUrl="/api/auth/login", auto_error=False)


async def get_authenticated(
    session: SessionDep, context: ContextDep, token: Annotated[str | None, Depends(bearer_token)]
) -> Authenticated:
    try:
        authenticated = await authenticate_access_token(
            session=session, settings=context.settings, token=token, usage=context.token_usage
        )
    except AuthError as exc:
        raise NotAuthenticated(exc.detail) from exc
    logs.user_id.set(authenticated.user.id)
    return authenticated


AuthenticatedDep = Annotated[Authenticated, Depends(get_authenticated)]


async def get_current_user(authenticated: AuthenticatedDep) -> User:
    return authenticated.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_login_access(authenticated: AuthenticatedDep) -> Authenticated:
    """A caller holding an access token from a login (the password or a refresh). API tokens
    are refused with 403: a leaked one must not mint more, nor end the logins it outlives."""
    if authenticated.by_api_token:
        raise Forbidden("This needs an access token from a login, not an API token")
    return authenticated


LoginAccess = Annotated[Authenticated, Depends(get_login_access)]


async def get_client_address(connection: HTTPConnection) -> str:
    """The client's address as the throttles count it. The ASGI server decides who the client
    is: Uvicorn, run by `hubbub serve` with FORWARDED_ALLOW_IPS, has already replaced a
    trusted proxy's address with the one its X-Forwarded-For names. Reading the header again
    here would apply it twice, so the app never does."""
    return address_key(connection.client.host if connection.client else None)


ClientAddress = Annotated[str, Depends(get_client_address)]
UserAgent = Annotated[str | None, Header(include_in_schema=False)]


async def get_site_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("Site administrators only")
    return user


SiteAdmin = Annotated[User, Depends(get_site_admin)]


async def get_login_site_admin(caller: LoginAccess) -> User:
    """A site admin holding an access token from a login: what managing bots' tokens needs."""
    return await get_site_admin(caller.user)


LoginSiteAdmin = Annotated[User, Depends(get_login_site_admin)]
