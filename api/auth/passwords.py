"""Password hashing with argon2id, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from passlib.context import CryptContext

from api.config import Settings

_T = TypeVar("_T")

# The stored "hash" of an account with no password (a bot): no password matches it.
NO_PASSWORD = "!"


class PasswordHasher:
    """Hashes and verifies passwords in a small thread pool of its own.

    argon2 releases the GIL, so hashing in threads keeps the event loop (and
    live delivery) responsive during a burst of logins; the pool's size caps
    how much CPU and memory (memory_cost per hash) a burst can take.
    """

    def __init__(self, settings: Settings) -> None:
        self._context = CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__memory_cost=settings.password_memory_kib,
            argon2__time_cost=settings.password_time_cost,
            argon2__parallelism=settings.password_parallelism,
        )
        self._executor = ThreadPoolExecutor(
            settings.hashing_threads, thread_name_prefix="hash", initializer=_yield_to_the_event_loop
        )
        # Unknown usernames are verified against this, so they cost the same time.
        self._dummy_hash = self._context.hash(secrets.token_urlsafe(16))
        self._turns = asyncio.Semaphore(settings.hashing_threads)

    def turn(self) -> asyncio.Semaphore:
        """Held around the whole of a request that hashes (its reads, the hash, its write):
        no more such requests run at once than there are hashing threads. The others wait
        parked, costing nothing, instead of interleaving their database round trips and
        parsing with every message the event loop relays: a burst of logins is no slower
        (the hashes are its bottleneck), and live delivery no longer queues behind it."""
        return self._turns

    async def hash(self, password: str) -> str:
        return await self._run(self._context.hash, password)

    async def verify(self, password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        """(matches, a new hash when the stored one uses outdated parameters). An account
        with no password (None, NO_PASSWORD or anything else that is not a hash) matches no
        password, after the same work as a wrong one."""
        if stored_hash is None or self._context.identify(stored_hash, required=False) is None:
            await self._run(self._context.verify, password, self._dummy_hash)
            return False, None
        return await self._run(self._context.verify_and_update, password, stored_hash)

    async def _run(self, func: Callable[..., _T], *args: str) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _yield_to_the_event_loop() -> None:
    """Run this hashing thread at idle priority.

    Threads release the GIL while argon2 runs, but on a busy machine they still
    take the core from the event loop at equal priority: a burst of logins then
    stalls live delivery. At idle priority the kernel runs them only on CPU the
    event loop leaves; logins wait a little longer instead of everyone else.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # 0: this thread, on Linux
    except (AttributeError, OSError):  # not Linux, or not allowed: lower the niceness instead
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
