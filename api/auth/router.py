from __future__ import annotations

from typing import Annotated, NamedTuple

from fastapi import APIRouter, Depends, Form, status

from api.auth import service, sessions
from api.auth.schemas import (
    AuthConfig,
    PasswordChange,
    ProfileUpdate,
    RefreshRequest,
    SessionPublic,
    SignupRequest,
    TokenPair,
    UserPublic,
    UserSummary,
)
from api.deps import (
    AuthenticatedDep,
    ClientAddress,
    ContextDep,
    CurrentUser,
    LoginAccess,
    SessionDep,
    UserAgent,
)
from api.errors import Conflict, Forbidden, NotAuthenticated, NotFound, RateLimited, error_responses
from api.rooms import service as rooms_service

router = APIRouter(tags=["auth"])


class Credentials(NamedTuple):
    username: str
    password: str


async def password_form(
    username: Annotated[str, Form()],
    password: Annotated[str, Form(json_schema_extra={"format": "password"})],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> Credentials:
    """The OAuth2 password form (what /docs' Authorize sends; its other fields are ignored),
    read on the event loop: FastAPI's `OAuth2PasswordRequestForm` is a class, so FastAPI
    builds it in a worker thread, a detour every login would pay."""
    return Credentials(username, password)


PasswordForm = Annotated[Credentials, Depends(password_form)]


@router.get(
    "/api/auth/config",
    response_model=AuthConfig,
    summary="Who may sign up",
    description="No token needed: a client reads it to know which signup form to show.",
)
async def config(context: ContextDep) -> AuthConfig:
    return AuthConfig(signup=context.settings.signup)


@router.post(
    "/api/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    summary="Create an account",
    description=(
        "Usernames are unique ignoring case; their case is kept for display. With `SIGNUP=invite` "
        "the body needs `invite`, a live code from a site admin (403 otherwise); with "
        "`SIGNUP=closed` signup is 403. At most `SIGNUP_PER_HOUR` successful signups per client "
        "address an hour, then 429 with `Retry-After`."
    ),
    responses=error_responses(Forbidden, Conflict, RateLimited),
)
async def signup(data: SignupRequest, context: ContextDep, address: ClientAddress) -> UserPublic:
    user = await service.signup(
        db=context.db,
        hasher=context.hasher,
        throttle=context.signup_throttle,
        mode=context.settings.signup,
        address=address,
        data=data,
    )
    return UserPublic.model_validate(user)


@router.post(
    "/api/auth/login",
    response_model=TokenPair,
    summary="Log in (OAuth2 password flow)",
    description=(
        "Form fields `username` and `password`. Unknown users and wrong passwords get the "
        "same 401. After repeated failures for one username, or from one client address for "
        "any usernames, 429 with `Retry-After`. Each login is a session (see `/api/users/me/sessions`)."
    ),
    responses=error_responses(NotAuthenticated, Forbidden, RateLimited),
)
async def login(
    form: PasswordForm,
    context: ContextDep,
    address: ClientAddress,
    user_agent: UserAgent = None,
) -> TokenPair:
    return await service.login(
        db=context.db,
        hasher=context.hasher,
        throttle=context.throttle,
        settings=context.settings,
        username=form.username,
        password=form.password,
        address=address,
        user_agent=user_agent,
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


@router.post(
    "/api/auth/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Log out everywhere",
    description=(
        "Every refresh token of the caller and every access token issued before now stop "
        "working, on every worker; the caller's live connections close (4401 `token_revoked`)."
    ),
    responses=error_responses(NotAuthenticated, Forbidden),
)
async def logout_all(caller: LoginAccess, context: ContextDep) -> None:
    await service.logout_all(db=context.db, user_id=caller.user.id)
    await context.events.tokens_revoked(caller.user.id)


@router.get(
    "/api/users/me",
    response_model=UserPublic,
    summary="The current user",
    responses=error_responses(NotAuthenticated),
)
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.patch(
    "/api/users/me",
    response_model=UserPublic,
    summary="Change the current user's display name",
    description="Rooms show the new name from then on, also on pages that are open now.",
    responses=error_responses(NotAuthenticated),
)
async def update_me(
    data: ProfileUpdate, user: CurrentUser, session: SessionDep, context: ContextDep
) -> UserPublic:
    unchanged = data.display_name == user.display_name
    updated = await service.update_profile(db=context.db, user_id=user.id, display_name=data.display_name)
    if not unchanged:
        roles = await rooms_service.roles_of(session, user_id=updated.id)
        await context.events.member_renamed(UserSummary.model_validate(updated), roles)
    return UserPublic.model_validate(updated)


@router.put(
    "/api/users/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the current user's password",
    description=(
        "Needs the current password. Every refresh token of the user is revoked, so other "
        "devices must log in again. Wrong current passwords count as failed logins of the "
        "username: after repeated failures, 429 with `Retry-After`."
    ),
    responses=error_responses(NotAuthenticated, Forbidden, RateLimited),
)
async def change_password(data: PasswordChange, user: CurrentUser, context: ContextDep) -> None:
    await service.change_password(
        db=context.db,
        hasher=context.hasher,
        throttle=context.throttle,
        user=user,
        current_password=data.current_password,
        new_password=data.new_password,
    )


@router.get(
    "/api/users/me/sessions",
    response_model=list[SessionPublic],
    summary="Your logins",
    description=(
        "One per login whose refresh tokens still work, most recently used first. `current` "
        "marks the one the calling access token belongs to."
    ),
    responses=error_responses(NotAuthenticated),
)
async def list_sessions(caller: AuthenticatedDep, session: SessionDep) -> list[SessionPublic]:
    return await sessions.list_sessions(session, user_id=caller.user.id, current=caller.session_id)


@router.delete(
    "/api/users/me/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End one of your logins",
    description="Its refresh tokens stop working; its access tokens expire as usual.",
    responses=error_responses(NotAuthenticated, NotFound),
)
async def end_session(session_id: str, user: CurrentUser, context: ContextDep) -> None:
    await sessions.end_session(db=context.db, user_id=user.id, session_id=session_id)
