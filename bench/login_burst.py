"""The login scenario's burst, in a process of its own: `python -m bench.login_burst URL`.

It reads the usernames (one JSON list) on standard input, prints `ready` once set up,
waits for a line `go`, sends one concurrent `POST /api/auth/login` per username, and prints one JSON object:
`{"ok": n, "latencies": [seconds, ...]}`. Run inside the load generator's own event loop,
the burst's 50 connections and requests (httpx is Python) held that loop for tens of
milliseconds and delayed the subscribers' receipts, which the scenario then counted as
the server's delay; a person logging in is not on the subscribers' machine either. It
runs at idle priority on the load generator's core, for the same reason: the CPU the
subscribers' receipts need comes first, and the logins take the rest (most of the core).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

import httpx

PASSWORD = "correct horse battery staple"
LOGIN_TIMEOUT = 120.0  # 50 argon2id hashes queue on two threads of one core


async def burst(url: str, usernames: list[str]) -> dict[str, object]:
    async with httpx.AsyncClient(
        base_url=url, limits=httpx.Limits(max_connections=len(usernames)), timeout=LOGIN_TIMEOUT
    ) as client:

        async def one(username: str) -> tuple[bool, float]:
            start = time.perf_counter()
            response = await client.post("/api/auth/login", data={"username": username, "password": PASSWORD})
            return response.status_code == 200, time.perf_counter() - start

        results = await asyncio.gather(*(one(name) for name in usernames))
    return {"ok": sum(ok for ok, _ in results), "latencies": [t for _, t in results]}


def main() -> None:
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    usernames = json.loads(sys.stdin.readline())
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("expected a line 'go'")
    json.dump(asyncio.run(burst(sys.argv[1], usernames)), sys.stdout)


if __name__ == "__main__":
    main()
