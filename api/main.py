"""The application factory: `create_app(settings)` builds one fresh app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import ASGIApp

from api.admin.router import router as admin_router
from api.audit.router import router as audit_router
from api.auth.router import router as auth_router
from api.bots.router import router as bots_router
from api.config import Settings
from api.context import open_context
from api.direct.router import router as direct_router
from api.docs.router import install_docs
from api.edge import Edge
from api.errors import install_error_handlers
from api.logs import redact_tokens_in_server_logs
from api.messages.router import router as messages_router
from api.ops.router import router as ops_router
from api.reading.router import router as reading_router
from api.realtime.router import install_websocket_refusals
from api.realtime.router import router as realtime_router
from api.rooms.router import router as rooms_router
from api.search.router import router as search_router
from api.tokens.router import router as tokens_router

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"
MAX_BODY_BYTES = 1024 * 1024

DESCRIPTION = """
Hubbub: authenticated, multi-room, real-time chat. This page is also its **admin console**.

**Logging in.** Press **Authorize**, enter a username and password under
*OAuth2PasswordBearer* (leave the client fields empty) and press *Authorize*: the page then
sends your access token with every call. It lasts `ACCESS_TOKEN_MINUTES` (15 by default);
log in again when calls answer 401. The first site admin is made on the server with
`hubbub create-admin NAME`.

**Administration** (the *admin* tag, site admins only): list and search users, deactivate
and reactivate them (their live connections close and their tokens stop working), grant
and remove admin rights, list and delete any room (its live connections close), make bots
and their API tokens, announce something to everyone connected, read the deployment's
figures, and read the **audit log** of every moderation and administration act. Each
operation says who may call it and what it does to live connections; open one, press
*Try it out*, then *Execute*.

**Programs** use API tokens (`hbb_...`, from `POST /api/me/tokens` or a bot's) wherever an
access token goes.

**Live delivery** is the WebSocket `/ws/rooms/{room_id}?token=<access token>&since=<seq>`
(see the README). The same reference, for reading, is at [/redoc](/redoc).
"""

TAGS = [
    {
        "name": "admin",
        "description": "Site administration: users, rooms, stats and the audit log (site admins only)",
    },
    {"name": "auth", "description": "Accounts, logging in and tokens"},
    {"name": "rooms", "description": "Rooms, memberships, roles and bans"},
    {"name": "messages", "description": "History, sending, editing and deleting"},
    {"name": "reading", "description": "Read cursors, unread counts and mentions"},
    {"name": "search", "description": "Full-text search of the caller's rooms"},
    {"name": "operations", "description": "Health, readiness and metrics, for load balancers and Prometheus"},
]


class Hubbub(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # Outside even Starlette's ServerErrorMiddleware: its 500s get the security headers
        # and the request id too, and WebSocket scopes get the server's own send.
        return Edge(super().build_middleware_stack())


class FrontendFiles(StaticFiles):
    """The web client; revalidated on every load, so an upgrade never mixes old and new modules."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    redact_tokens_in_server_logs()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_context(settings) as context:
            app.state.context = context
            yield

    app = Hubbub(
        title="Hubbub",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        # Served by api/docs, from assets Hubbub ships, instead of FastAPI's CDN-loading pages.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_websocket_refusals(app)
    routers = (
        auth_router,
        tokens_router,
        rooms_router,
        direct_router,
        messages_router,
        reading_router,
        search_router,
        admin_router,
        bots_router,
        audit_router,
        ops_router,
    )
    for router in routers:
        app.include_router(router, max_body_size=MAX_BODY_BYTES)
    # No body limit on the WebSocket route: frames have their own (WS_MAX_FRAME_BYTES), and a
    # limit's wrappers would stay alive, in memory, for as long as each connection is open.
    app.include_router(realtime_router)
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )
    install_docs(app)
    app.mount("/", FrontendFiles(directory=FRONTEND_DIR, html=True), name="frontend")
    return app
