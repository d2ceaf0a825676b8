from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import service
from api.auth.schemas import RefreshRequest, SignupRequest, TokenPair, UserPublic
from api.deps import ContextDep, CurrentUser
from api.errors import Conflict, Forbidden, NotAuthenticated, RateLimited, error_responses

router = APIRouter(tags=["auth"])


@router.post(
    "/api/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    summary="Create an account",
    description="Usernames are unique ignoring case; their case is kept for display.",
    responses=error_responses(Conflict),
)
async def signup(data: SignupRequest, context: ContextDep) -> UserPublic:
    user = await service.signup(db=context.db, hasher=context.hasher, data=data)
    return UserPublic.model_validate(user)


@router.post(
    "/api/auth/login",
    response_model=TokenPair,
    summary="Log in (OAuth2 password flow)",
    description=(
        "Form fields `username` and `password`. Unknown users and wrong passwords get the "
        "same 401. After repeated failures for one username, 429 with `Retry-After`."
    ),
    responses=error_responses(NotAuthenticated, Forbidden, RateLimited),
)
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], context: ContextDep) -> TokenPair:
    return await service.login(
        db=context.db,
        hasher=context.hasher,
        throttle=context.throttle,
        settings=context.settings,
        username=form.username,
        password=form.password,
    )


@router.post(
    "/api/auth/refresh",
    response_model=TokenPair,
    summary="Exchange a refresh token for a new pair",
    description=(
        "Each refresh token works once. Presenting a spent one again revokes every token "
        "of that login (reuse detection)."
    ),
    responses=error_responses(NotAuthenticated),
)
async def refresh(data: RefreshRequest, context: ContextDep) -> TokenPair:
    return await service.refresh(db=context.db, settings=context.settings, refresh_token=data.refresh_token)


@router.post(
    "/api/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a refresh token",
    description="Ends the login the token belongs to. An unusable token is ignored (RFC 7009).",
)
async def logout(data: RefreshRequest, context: ContextDep) -> None:
    await service.logout(db=context.db, settings=context.settings, refresh_token=data.refresh_token)


@router.get(
    "/api/users/me",
    response_model=UserPublic,
    summary="The current user",
    responses=error_responses(NotAuthenticated),
)
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
