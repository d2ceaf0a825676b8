"""Login throttling: a sliding window of failed logins per username, kept in the database
so every worker process counts the same failures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from api.auth.models import LoginFailure
from api.db import Database, utcnow
from api.errors import RateLimited

MAX_KEY_LENGTH = 128


def throttle_key(username: str) -> str:
    # PostgreSQL text cannot hold NUL; any stable stand-in keeps the count per username.
    return username.lower()[:MAX_KEY_LENGTH].replace("\x00", "\ufffd")


class LoginThrottle:
    def __init__(self, db: Database, *, max_failures: int, window_seconds: int) -> None:
        self._db = db
        self._max_failures = max_failures
        self._window = timedelta(seconds=window_seconds)

    async def check(self, key: str) -> int:
        """The number of recent failures for `key`; raises RateLimited when it must wait."""
        now = utcnow()
        async with self._db.session() as session:
            recent = (
                await session.scalars(
                    select(LoginFailure.failed_at)
                    .where(
                        LoginFailure.username_key == key,
                        LoginFailure.failed_at > now - self._window,
                    )
                    .order_by(LoginFailure.failed_at.desc())
                    .limit(self._max_failures)
                )
            ).all()
        if len(recent) >= self._max_failures:
            # Allowed again once the oldest of the newest `max_failures` leaves the window.
            wait = (recent[-1] + self._window - now).total_seconds()
            raise RateLimited("Too many failed logins; try again later", retry_after=wait)
        return len(recent)

    async def record_failure(self, key: str) -> None:
        now = utcnow()
        async with self._db.writing() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - self._window))
            session.add(LoginFailure(username_key=key, failed_at=now))

    async def clear(self, key: str) -> None:
        async with self._db.writing() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.username_key == key))
