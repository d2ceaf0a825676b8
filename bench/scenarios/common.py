"""What every scenario shares: its settings, and deployments of Hubbub or the baseline
with users, rooms and tokens ready (none of that is counted in a figure)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import setup_db
from bench.servers import Server, start_baseline, start_hubbub

logger = logging.getLogger(__name__)

HUBBUB = "hubbub"
BASELINE = "baseline"
RELAY = "relay"  # the baseline relaying each frame verbatim: the outside measurement's baseline


@dataclass(frozen=True, slots=True)
class Settings:
    """Counts and durations; `--quick` shrinks them for a smoke run."""

    workdir: Path
    secret: str
    quick: bool = False
    fanout_subscribers: int = 1000
    paced_rate: float = 20.0
    paced_seconds: float = 10.0
    saturate_seconds: float = 10.0
    saturate_senders: int = 40
    saturate_window: int = 64
    sender_rate: float = 45.0  # per connection, under the server's 50 frames/s
    rooms: int = 100
    room_members: int = 10
    room_rate: float = 5.0  # messages/s per member
    room_seconds: float = 10.0
    idle_connections: int = 5000
    idle_rooms: int = 100
    slow_before_seconds: float = 30.0
    slow_seconds: float = 120.0
    join_replay: int = 1000
    join_repeats: int = 20
    logins: int = 50
    login_before_seconds: float = 5.0
    publisher_subscribers: tuple[int, ...] = (100, 1000)
    publisher_window: int = 16
    publisher_seconds: float = 10.0
    ws_people: int = 2000  # ws_memory: people, each in `ws_rooms_each` rooms of 10
    ws_rooms_each: int = 10
    ws_subscribe_history: int = 50  # ws_subscribe: messages in each room
    ws_subscribe_repeats: int = 20
    ws_fanout_members: int = 1000
    activity_members: int = 1000

    @classmethod
    def quick_settings(cls, workdir: Path, secret: str) -> Settings:
        return cls(
            workdir=workdir,
            secret=secret,
            quick=True,
            fanout_subscribers=200,
            paced_seconds=3,
            saturate_seconds=3,
            rooms=20,
            room_seconds=3,
            idle_connections=500,
            idle_rooms=10,
            slow_before_seconds=3,
            slow_seconds=15,
            join_repeats=5,
            logins=10,
            login_before_seconds=2,
            publisher_subscribers=(50, 200),
            publisher_seconds=3,
            ws_people=200,
            ws_subscribe_repeats=5,
            ws_fanout_members=200,
            activity_members=200,
        )


@dataclass(slots=True)
class Deployment:
    """A running server and the rooms and users set up for it; user k belongs to room k // members,
    or, with a `layout`, to the rooms of indexes `layout[k]`."""

    kind: str
    server: Server
    room_ids: list[int]
    members: int
    tokens: list[str]
    database: setup_db.BenchDatabase | None = None
    extra_users: list[str] = field(default_factory=list)  # usernames with a real password
    layout: list[list[int]] | None = None

    def urls(self, since: int | None = None) -> list[str]:
        return [
            self.server.ws_url(self.room_ids[k // self.members], token, since)
            for k, token in enumerate(self.tokens)
        ]

    def multi_urls(self) -> list[str]:
        """`/ws` for each user."""
        return [self.server.multi_url(token) for token in self.tokens]

    def rooms_of(self, k: int) -> list[int]:
        """The ids of user k's rooms."""
        if self.layout is None:
            return [self.room_ids[k // self.members]]
        return [self.room_ids[j] for j in self.layout[k]]


@asynccontextmanager
async def deploy(
    kind: str,
    settings: Settings,
    *,
    rooms: int,
    members: int,
    db_kind: str = "sqlite",
    history: int = 0,
    password_users: int = 0,
    password_hash: str = "",
    extra_env: dict[str, str] | None = None,
    search_index: bool = True,
    layout: list[list[int]] | None = None,
    history_rooms: int = 1,
) -> AsyncIterator[Deployment]:
    """Hubbub on a fresh database with `rooms` × `members` users, or the baseline with the same
    room layout (rooms 1..n, no users: it does not authenticate). `search_index=False` drops the
    full-text index and its triggers after migrating, to measure what they cost.

    `layout` (Hubbub only) replaces that layout: one user per entry, a member of the rooms at
    those indexes. `history` messages go into each of the first `history_rooms` rooms."""
    if kind in (BASELINE, RELAY):
        server = await start_baseline(workdir=settings.workdir, verbatim=kind == RELAY)
        try:
            yield Deployment(kind, server, list(range(1, rooms + 1)), members, ["none"] * (rooms * members))
        finally:
            await server.stop()
        return
    database = await setup_db.create_database(db_kind, settings.workdir)
    try:
        if not search_index:
            await setup_db.drop_search_index(database.url)
        async with setup_db.connect(database.url) as connection:
            user_ids = await setup_db.add_users(
                connection, rooms * members if layout is None else len(layout)
            )
            room_ids = await setup_db.add_rooms(connection, rooms)
            if layout is None:
                pairs = [(room_ids[k // members], user_id) for k, user_id in enumerate(user_ids)]
            else:
                pairs = [(room_ids[j], user_ids[k]) for k, indexes in enumerate(layout) for j in indexes]
            await setup_db.add_members(connection, pairs)
            for room_id in room_ids[:history_rooms] if history else ():
                await setup_db.add_messages(connection, room_id=room_id, author_id=user_ids[0], count=history)
            extra: list[str] = []
            if password_users:
                ids = await setup_db.add_users(
                    connection, password_users, prefix="login", password_hash=password_hash
                )
                extra = [f"login{user_id}" for user_id in ids]
        tokens = setup_db.mint_tokens(settings.secret, user_ids)
        server = await start_hubbub(
            database_url=database.url, secret=settings.secret, workdir=settings.workdir, extra_env=extra_env
        )
        try:
            yield Deployment(kind, server, room_ids, members, tokens, database, extra, layout)
        finally:
            await server.stop()
    finally:
        await setup_db.drop_database(database)
