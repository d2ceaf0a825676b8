"""The one middleware in front of everything, outside even Starlette's error handler.

For HTTP it gives each request an id (the client's `X-Request-ID` when it is sane, a new
one otherwise) for the logs and the response, adds the security headers to every
response (500s included), and counts the request by route template. WebSocket scopes
take the cheapest path: the middleware only keeps the server's own `send` for them, so a
connection can write straight to its transport (see api/realtime/wire.py).

One pure ASGI layer rather than several: each layer costs every request a few percent.
"""

from __future__ import annotations

import re
import secrets
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import logs
from api.realtime.wire import SERVER_SEND

# The web client's policy (also in frontend/index.html, where a meta tag cannot carry
# frame-ancestors). Pages with a policy of their own (/docs, /redoc) keep theirs.
WEB_CLIENT_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
_CSP = b"content-security-policy"
_DEFAULT_CSP = (_CSP, WEB_CLIENT_POLICY.encode())
_REQUEST_ID_HEADER = b"x-request-id"
# Bounded and inert in a log line or a header: what proxies and tracers generate.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
UNMATCHED = "unmatched"


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == _REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return secrets.token_hex(8)


def route_template(scope: Scope) -> str:
    """The matched route's path template: `/api/rooms/{room_id}`, never `/api/rooms/7`."""
    route = scope.get("route")
    if route is not None:
        template: str = getattr(route, "path_format", UNMATCHED)
        return template
    if scope.get("endpoint") is not None:  # a mount (FastAPI names no route for those)
        return f"{scope.get('root_path', '')}/{{path}}"
    return UNMATCHED


class Edge:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                scope[SERVER_SEND] = send
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        state = scope["app"].state
        request_id = request_id_from(scope["headers"])
        added = (*SECURITY_HEADERS, (_REQUEST_ID_HEADER, request_id.encode()))
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), *added]
                for name, _ in headers:
                    if name == _CSP:
                        break
                else:
                    headers.append(_DEFAULT_CSP)
                message["headers"] = headers
            await send(message)

        request_token = logs.request_id.set(request_id)
        user_token = logs.user_id.set(None)
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            logs.request_id.reset(request_token)
            logs.user_id.reset(user_token)
            context = getattr(state, "context", None)
            if context is not None:
                context.metrics.http.observe(
                    scope["method"], route_template(scope), status, perf_counter() - started
                )
