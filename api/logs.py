"""Logging: human-readable lines by default, one JSON object per line with `LOG_FORMAT=json`,
and never a credential: WebSocket URLs carry the access token in the query string, and
Uvicorn logs every URL it serves.

Each record carries the id of the request it was logged for and, once the request's
access token is checked, the user's id. They live in context variables, which asyncio
copies into every task a request starts, so they need no passing around.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from api.config import Settings

_TOKEN = re.compile(r"(token=)[^&\s\"']+")
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error")

request_id: ContextVar[str | None] = ContextVar("hubbub_request_id", default=None)
user_id: ContextVar[int | None] = ContextVar("hubbub_user_id", default=None)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        return True


def _redact(text: str) -> str:
    return _TOKEN.sub(r"\1[redacted]", text) if "token=" in text else text


def redact_tokens_in_server_logs() -> None:
    """Idempotent: every app built in the process shares the server's loggers."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactTokens) for existing in logger.filters):
            logger.addFilter(RedactTokens())


class RequestContext(logging.Filter):
    """Adds `request_id` and `user_id` to every record a handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.user_id = user_id.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        context = [f"request={rid}"] if (rid := getattr(record, "request_id", None)) else []
        if (uid := getattr(record, "user_id", None)) is not None:
            context.append(f"user={uid}")
        record.context = f" [{' '.join(context)}]" if context else ""
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        return _redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, user_id, and for
    Uvicorn's access lines the client, method, path and status as fields of their own."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _redact(record.getMessage()),
        }
        if (rid := getattr(record, "request_id", None)) is not None:
            entry["request_id"] = rid
        if (uid := getattr(record, "user_id", None)) is not None:
            entry["user_id"] = uid
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _version, status = record.args
            entry.update(client=client, method=method, path=path, status=status)
        if record.exc_info:
            entry["exception"] = _redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def formatter_for(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.log_format == "json" else TextFormatter()


def logging_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the CLI and for Uvicorn (which applies it in every
    worker process): every logger writes through one handler on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": RequestContext}, "redact": {"()": RedactTokens}},
        "formatters": {"hubbub": {"()": formatter_for, "settings": settings}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "hubbub",
                "filters": ["context"],
            }
        },
        "loggers": {
            "uvicorn": {"level": settings.log_level, "handlers": [], "propagate": True},
            **{
                name: {"level": settings.log_level, "handlers": [], "propagate": True, "filters": ["redact"]}
                for name in SERVER_LOGGERS
            },
        },
        "root": {"level": settings.log_level, "handlers": ["stderr"]},
    }
