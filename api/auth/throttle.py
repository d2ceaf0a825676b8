"""Throttles kept in the database, so every worker process counts the same events: failed
logins per username and per client address (a sliding window), and successful signups per
client address (an hour)."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.models import LoginFailure, SignupRecord
from api.db import Database, utcnow
from api.errors import RateLimited

MAX_KEY_LENGTH = 128
MAX_ADDRESS_LENGTH = 64
SIGNUP_WINDOW = timedelta(hours=1)
# One IPv6 subscriber usually holds a whole /64: counting single addresses would let one
# machine take a fresh one for every attempt.
IPV6_PREFIX = 64


def throttle_key(username: str) -> str:
    # PostgreSQL text cannot hold NUL; any stable stand-in keeps the count per username.
    return username.lower()[:MAX_KEY_LENGTH].replace("\x00", "\ufffd")


def address_key(host: str | None) -> str:
    """What the throttles count a client address as: an IPv4 address, an IPv6 /64 (an
    IPv4-mapped one as its IPv4 address), or, for anything else a server may report (a Unix
    socket has none), the text itself, bounded."""
    if not host:
        return ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:MAX_ADDRESS_LENGTH].replace("\x00", "\ufffd")
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def _oldest_wait(recent: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> float | None:
    """The seconds until one more event is allowed, or None when it is allowed now.
    `recent`: the newest `limit` events in the window, newest first."""
    if len(recent) < limit:
        return None
    # Allowed again once the oldest of the newest `limit` leaves the window.
    return (recent[-1] + window - now).total_seconds()


class LoginThrottle:
    def __init__(
        self, db: Database, *, max_failures: int, window_seconds: int, max_failures_per_address: int
    ) -> None:
        self._db = db
        self._max_failures = max_failures
        self._max_per_address = max_failures_per_address
        self._window = timedelta(seconds=window_seconds)

    async def check(self, key: str, address: str | None = None) -> int:
        """The number of recent failures for `key`; raises RateLimited when it, or the client
        `address` (failures for every username), must wait."""
        now = utcnow()
        async with self._db.session() as session:
            by_name = await self._recent(session, LoginFailure.username_key == key, self._max_failures, now)
            waits = [_oldest_wait(by_name, self._max_failures, self._window, now)]
            if address is not None:
                limit = self._max_per_address
                by_address = await self._recent(session, LoginFailure.address == address, limit, now)
                waits.append(_oldest_wait(by_address, limit, self._window, now))
        blocked = [wait for wait in waits if wait is not None]
        if blocked:
            raise RateLimited("Too many failed logins; try again later", retry_after=max(blocked))
        return len(by_name)

    async def _recent(
        self, session: AsyncSession, where: ColumnElement[bool], limit: int, now: datetime
    ) -> Sequence[datetime]:
        query = (
            select(LoginFailure.failed_at)
            .where(where, LoginFailure.failed_at > now - self._window)
            .order_by(LoginFailure.failed_at.desc())
            .limit(limit)
        )
        return (await session.scalars(query)).all()

    async def record_failure(self, key: str, address: str | None = None) -> None:
        now = utcnow()
        async with self._db.writing() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - self._window))
            session.add(LoginFailure(username_key=key, failed_at=now, address=address))

    async def clear(self, key: str) -> None:
        async with self._db.writing() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.username_key == key))


class SignupThrottle:
    """At most `per_hour` successful signups per client address in any hour."""

    def __init__(self, db: Database, *, per_hour: int) -> None:
        self._db = db
        self._per_hour = per_hour

    async def check(self, address: str) -> None:
        """Refuse early, before a password is hashed for nothing; `record` decides for good."""
        async with self._db.session() as session:
            await self._refuse_when_full(session, address, utcnow())

    async def record(self, session: AsyncSession, address: str) -> None:
        """Count a signup inside its own write transaction: it counts only if that commits,
        and, under the lock, racing signups from one address cannot pass the limit together."""
        now = utcnow()
        if not self._db.is_sqlite:  # SQLite's write transactions are one at a time already
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(address)})
        await self._refuse_when_full(session, address, now)
        await session.execute(delete(SignupRecord).where(SignupRecord.created_at <= now - SIGNUP_WINDOW))
        session.add(SignupRecord(address=address, created_at=now))

    async def _refuse_when_full(self, session: AsyncSession, address: str, now: datetime) -> None:
        recent = (
            await session.scalars(
                select(SignupRecord.created_at)
                .where(SignupRecord.address == address, SignupRecord.created_at > now - SIGNUP_WINDOW)
                .order_by(SignupRecord.created_at.desc())
                .limit(self._per_hour)
            )
        ).all()
        wait = _oldest_wait(recent, self._per_hour, SIGNUP_WINDOW, now)
        if wait is not None:
            raise RateLimited("Too many signups from this address; try again later", retry_after=wait)


def _lock_key(address: str) -> int:
    """A signed 64-bit advisory lock key for the signups of one address."""
    digest = hashlib.sha256(b"hubbub:signup:" + address.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
