"""`last_used_at` of API tokens, without a database write on every request.

A bot may call the API many times a second; writing the time of each call would put a write
(on SQLite: the one writer's turn) in front of every one of them. So each worker writes a
token's `last_used_at` only when the stored one is older than `interval`, and at most once
per `interval` itself, however many requests race in meanwhile: the stored time lags the
latest use by at most about `interval`.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from api.db import Database, utcnow
from api.tokens.models import ApiToken

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 60.0


class TokenUsage:
    def __init__(self, db: Database, *, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        self._db = db
        self._interval = interval
        # token id -> time.monotonic() of this worker's latest write (or attempt)
        self._written: dict[int, float] = {}

    async def used(self, token: ApiToken) -> None:
        """`token` (as just read from the database) is being used now."""
        now = utcnow()
        if token.last_used_at is not None and now - token.last_used_at < timedelta(seconds=self._interval):
            return
        clock = time.monotonic()
        last = self._written.get(token.id)
        if last is not None and clock - last < self._interval:
            return
        self._written[token.id] = clock  # before the write: racing requests skip it
        self._forget_before(clock - self._interval)
        try:
            async with self._db.writing() as session:
                await session.execute(
                    update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
                )
        except SQLAlchemyError as exc:  # a lost update of a hint is no reason to refuse the request
            logger.warning("recording the use of API token %d failed: %r", token.id, exc)

    def _forget_before(self, cutoff: float) -> None:
        """Drop entries too old to matter, so the map holds only recently used tokens."""
        if len(self._written) < 1024:
            return
        for token_id in [key for key, at in self._written.items() if at < cutoff]:
            del self._written[token_id]
