"""What authenticating with an API token costs one HTTP request, against a login access
token (a JWT), in the same run; and how many database writes its `last_used_at` costs.

    .venv/bin/python -m bench.tokens [--requests 10000] [--db postgresql]

Requests are `GET /api/users/me`, made in-process through ASGI (no sockets, no server), so
the figures are the app's own cost per request; both credentials take turns in rounds to
share any noise. A login access token costs a signature check and one primary-key read of
the user; an API token one indexed read joining its row and its user.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import event, make_url

from api.auth.models import User
from api.auth.tokens import TokenType, issue_token
from api.config import Settings
from api.context import AppContext
from api.main import create_app
from api.migrate import upgrade
from api.tokens import service as api_tokens
from api.tokens.schemas import ApiTokenCreate

ROUNDS = 20
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def per_request(http: httpx.AsyncClient, token: str, count: int) -> float:
    """Microseconds per request."""
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    for _ in range(count):
        response = await http.get("/api/users/me", headers=headers)
        assert response.status_code == 200, response.text
    return (time.perf_counter() - started) / count * 1e6


async def run(url: str, count: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-tokens-"))
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, data_dir=directory, secret_key="bench-" + "x" * 40)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        context: AppContext = app.state.context
        async with context.db.writing() as session:
            user = User(username="bench", username_key="bench", display_name="bench", password_hash="!")
            session.add(user)
            await session.flush()
            api_token = (
                await api_tokens.add_token(session, user_id=user.id, data=ApiTokenCreate(name="b"))
            ).token
        login_token, _ = issue_token(
            key=settings.signing_key,
            user_id=user.id,
            type=TokenType.access,
            lifetime=settings.access_token_lifetime,
        )
        writes: list[str] = []
        event.listen(
            context.db.write_engine.sync_engine,
            "before_cursor_execute",
            lambda _c, _cu, statement, *_: writes.append(statement) if "api_tokens" in statement else None,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            await per_request(http, login_token, 200)  # warm up
            await per_request(http, api_token, 200)
            results: dict[str, list[float]] = {"login": [], "api": []}
            for _ in range(ROUNDS):
                results["login"].append(await per_request(http, login_token, count // ROUNDS))
                results["api"].append(await per_request(http, api_token, count // ROUNDS))
        login, api = statistics.median(results["login"]), statistics.median(results["api"])
        backend = make_url(url).get_backend_name()
        sys.stdout.write(
            f"{backend:10} GET /api/users/me: login access token {login:7.1f} µs/request, "
            f"API token {api:7.1f} (+{api - login:.1f} µs, {api / login:.3f}×); "
            f"writes to api_tokens over {count // ROUNDS * ROUNDS + 200} uses: {len(writes)}\n"
        )


async def main(count: int, db: str) -> None:
    if db == "sqlite":
        await run(f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='bench-tokens-')}/bench.db", count)
        return
    name = f"bench_{secrets.token_hex(4)}"
    admin = make_url(POSTGRES).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    try:
        await run(make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), count)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.db))
