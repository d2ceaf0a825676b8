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

from api.admin.router import router as admin_router
from api.auth.router import router as auth_router
from api.config import Settings
from api.context import open_context
from api.direct.router import router as direct_router
from api.errors import install_error_handlers
from api.logs import redact_tokens_in_server_logs
from api.messages.router import router as messages_router
from api.ops.router import router as ops_router
from api.realtime.router import install_websocket_refusals
from api.realtime.router import router as realtime_router
from api.realtime.wire import CaptureServerSend
from api.rooms.router import router as rooms_router
from api.search.router import router as search_router

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"
MAX_BODY_BYTES = 1024 * 1024

DESCRIPTION = """
Hubbub: authenticated, multi-room, real-time chat.

Use **Authorize** with a username and password to call the authenticated routes.
Site administrators manage users and rooms under *admin*. Live delivery is the
WebSocket `/ws/rooms/{room_id}?token=<access token>&since=<seq>` (see the README).
"""

TAGS = [
    {"name": "auth", "description": "Accounts and tokens"},
    {"name": "rooms", "description": "Rooms, memberships and bans"},
    {"name": "messages", "description": "History, sending, editing and deleting"},
    {"name": "search", "description": "Full-text search of the caller's rooms"},
    {"name": "admin", "description": "Site administration (site admins only)"},
    {"name": "operations", "description": "Health, readiness and metrics"},
]


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

    app = FastAPI(
        title="Hubbub",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_websocket_refusals(app)
    for router in (
        auth_router,
        rooms_router,
        direct_router,
        messages_router,
        search_router,
        admin_router,
        ops_router,
    ):
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
    app.add_middleware(CaptureServerSend)  # outermost: it must see the server's own send
    app.mount("/", FrontendFiles(directory=FRONTEND_DIR, html=True), name="frontend")
    return app
