"""Throttles kept in the database, so every worker process counts the same events: failed
logins per username and per client address (a sliding window), and successful signups per
client address (an hour)."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.models import AddressHit, LoginFailure
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


def _wait(recent: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> float | None:
    """The seconds until one more event is allowed, or None when it is allowed now.
    `recent`: the newest `limit` events in the window, newest first."""
    if len(recent) < limit:
        return None
    # Allowed again once the oldest of the newest `limit` leaves the window.
    return (recent[-1] + window - now).total_seconds()


class AddressWindow:
    """At most `limit` events of one `kind` per client address in any `window`."""

    def __init__(self, kind: str, *, limit: int, window: timedelta) -> None:
        self.kind = kind
        self.limit = limit
        self.window = window

    async def wait(self, session: AsyncSession, address: str, now: datetime) -> float | None:
        recent = (
            await session.scalars(
                select(AddressHit.at)
                .where(
                    AddressHit.kind == self.kind,
                    AddressHit.address == address,
                    AddressHit.at > now - self.window,
                )
                .order_by(AddressHit.at.desc())
                .limit(self.limit)
            )
        ).all()
        return _wait(recent, self.limit, self.window, now)

    async def add(self, session: AsyncSession, address: str, now: datetime) -> None:
        await session.execute(
            delete(AddressHit).where(AddressHit.kind == self.kind, AddressHit.at <= now - self.window)
        )
        session.add(AddressHit(kind=self.kind, address=address, at=now))


class LoginThrottle:
    def __init__(
        self, db: Database, *, max_failures: int, window_seconds: int, max_failures_per_address: int
    ) -> None:
        self._db = db
        self._max_failures = max_failures
        self._window = timedelta(seconds=window_seconds)
        self._addresses = AddressWindow("login_failure", limit=max_failures_per_address, window=self._window)

    async def check(self, key: str, address: str | None = None) -> int:
        """The number of recent failures for `key`; raises RateLimited when it, or the client
        `address` (failures for any username), must wait."""
        now = utcnow()
        async with self._db.session() as session:
            recent = (
                await session.scalars(
                    select(LoginFailure.failed_at)
                    .where(LoginFailure.username_key == key, LoginFailure.failed_at > now - self._window)
                    .order_by(LoginFailure.failed_at.desc())
                    .limit(self._max_failures)
                )
            ).all()
            waits = [_wait(recent, self._max_failures, self._window, now)]
            if address is not None:
                waits.append(await self._addresses.wait(session, address, now))
        blocked = [wait for wait in waits if wait is not None]
        if blocked:
            raise RateLimited("Too many failed logins; try again later", retry_after=max(blocked))
        return len(recent)

    async def record_failure(self, key: str, address: str | None = None) -> None:
        now = utcnow()
        async with self._db.writing() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - self._window))
            session.add(LoginFailure(username_key=key, failed_at=now))
            if address is not None:
                await self._addresses.add(session, address, now)

    async def clear(self, key: str) -> None:
        """After a successful login: the username's failures go, the addresses' counts stay
        (a sprayer's failures are not forgiven because its targets log in)."""
        async with self._db.writing() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.username_key == key))


class SignupThrottle:
    """At most `per_hour` successful signups per client address in any hour."""

    def __init__(self, db: Database, *, per_hour: int) -> None:
        self._db = db
        self._addresses = AddressWindow("signup", limit=per_hour, window=SIGNUP_WINDOW)

    async def check(self, address: str) -> None:
        """Refuse early, before a password is hashed for nothing; `record` decides for good."""
        async with self._db.session() as session:
            self._refuse(await self._addresses.wait(session, address, utcnow()))

    async def record(self, session: AsyncSession, address: str) -> None:
        """Count a signup inside its own write transaction: it counts only if that commits,
        and, under the lock, racing signups from one address cannot pass the limit together."""
        now = utcnow()
        if not self._db.is_sqlite:  # SQLite's write transactions are one at a time already
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(address)})
        self._refuse(await self._addresses.wait(session, address, now))
        await self._addresses.add(session, address, now)

    @staticmethod
    def _refuse(wait: float | None) -> None:
        if wait is not None:
            raise RateLimited("Too many signups from this address; try again later", retry_after=wait)


def _lock_key(address: str) -> int:
    """A signed 64-bit advisory lock key for the signups of one address."""
    digest = hashlib.sha256(b"hubbub:signup:" + address.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
