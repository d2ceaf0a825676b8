"""The errors services raise, and the one place they become HTTP responses.

Services stay framework-free: they raise these, and `install_error_handlers`
turns them into `{"detail": ...}` responses. The WebSocket layer maps the few it
meets to close codes and error frames itself.
"""

from __future__ import annotations

import json
import logging
import math
from typing import ClassVar

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ErrorDetail

logger = logging.getLogger(__name__)


class HubbubError(Exception):
    status_code: ClassVar[int] = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def headers(self) -> dict[str, str] | None:
        return None


class NotAuthenticated(HubbubError):
    status_code = 401

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(HubbubError):
    status_code = 403


class NotFound(HubbubError):
    status_code = 404


class Conflict(HubbubError):
    status_code = 409


class Unprocessable(HubbubError):
    """Well-formed input that names something that is not there (a reply to no message)."""

    status_code = 422


class RateLimited(HubbubError):
    status_code = 429

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))}


class Unavailable(HubbubError):
    status_code = 503


async def _handle_hubbub_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HubbubError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers())


async def _handle_infrastructure_error(_request: Request, exc: Exception) -> JSONResponse:
    logger.warning("a backing service failed: %r", exc)
    return JSONResponse({"detail": "The database or broker is unavailable; try again"}, status_code=503)


class _AsciiJSONResponse(JSONResponse):
    """Escapes everything outside ASCII, so even a lone surrogate in an error renders."""

    def render(self, content: object) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


async def _handle_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, minus the echo of the refused input: NaN, Infinity or a lone surrogate
    cannot be written back as JSON, and echoing input is no help to a client anyway."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return _AsciiJSONResponse({"detail": errors}, status_code=422)


async def _handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI says 400; it is invalid input
        error = {"type": "json_invalid", "loc": ["body"], "msg": "The body is not valid UTF-8"}
        return JSONResponse({"detail": [error]}, status_code=422)
    return await http_exception_handler(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HubbubError, _handle_hubbub_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    # A database or Redis that is down is not the client's fault, and not a bug: 503.
    for error in (
        DBAPIError,
        SQLAlchemyTimeoutError,
        RedisConnectionError,
        RedisTimeoutError,
        OSError,
    ):
        app.add_exception_handler(error, _handle_infrastructure_error)


def error_responses(*errors: type[HubbubError]) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses=` entries for the errors a route can give, so /docs lists them."""
    return {
        error.status_code: {"model": ErrorDetail, "description": _DESCRIPTIONS[error]} for error in errors
    }


_DESCRIPTIONS: dict[type[HubbubError], str] = {
    NotAuthenticated: "Missing, malformed, expired or revoked access token",
    Forbidden: "Not allowed for the caller",
    NotFound: "No such resource (or a private room the caller does not belong to)",
    Conflict: "Conflicts with the current state",
    Unprocessable: "Refers to something that does not exist",
    RateLimited: "Too many requests; retry after the number of seconds in Retry-After",
    Unavailable: "The database or broker is unavailable; try again",
}
