"""Throttles per client address: successful signups an hour, failed logins across usernames;
and which address counts: the peer's, or the X-Forwarded-For of a trusted proxy, as Uvicorn
reads it (tests over a real Uvicorn server, from loopback addresses of our choosing)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from api.auth.models import AddressHit
from api.auth.throttle import address_key
from api.cli import uvicorn_options
from tests.auth.support import client_from, running_app, signup_status
from tests.conftest import make_settings
from tests.factories import PASSWORD
from tests.rooms.helpers import context_of, refuse_server_errors, store_accounts
from tests.servers import LiveServer, serve_in_process

# Headers a client may send to pass for someone else. From an untrusted peer none counts;
# from a trusted one only X-Forwarded-For does.
FORGED = [
    {"X-Forwarded-For": "198.51.100.1"},
    {"X-Forwarded-For": "198.51.100.2, 198.51.100.3"},
    {"X-Forwarded-For": "garbage, , ::ffff:zz"},
    {"X-Forwarded-For": "127.0.0.1"},
    {"X-Real-IP": "198.51.100.4"},
    {"Forwarded": "for=198.51.100.5"},
    {"Forwarded": 'for="[2001:db8::1]"'},
    {"X-Forwarded-For": "198.51.100.6", "X-Real-IP": "198.51.100.7", "Forwarded": "for=198.51.100.8"},
]


def test_address_keys() -> None:
    assert address_key("203.0.113.9") == "203.0.113.9"
    # One IPv6 subscriber holds a /64; an IPv4-mapped address is its IPv4 address.
    assert address_key("2001:db8:1:2:3:4:5:6") == address_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert address_key(None) == address_key("") == ""
    assert address_key("x" * 500) == "x" * 64
    assert address_key("a\x00b") == "a\ufffdb"


async def test_signups_per_address_are_limited(database_url: str, tmp_path: Path) -> None:
    async with running_app(database_url, tmp_path, signup_per_hour=2) as app:
        async with client_from(app, "203.0.113.1") as one, client_from(app, "203.0.113.2") as other:
            assert (await signup_status(one, "first")).status_code == 201
            # Refused signups do not count: only successful ones do.
            await store_accounts(app, [{"username": "taken"}])
            for _ in range(5):
                assert (await signup_status(one, "taken")).status_code == 409
            assert (await one.post("/api/auth/signup", json={"username": "x"})).status_code == 422
            assert (await signup_status(one, "second")).status_code == 201
            blocked = await signup_status(one, "third")
            assert blocked.status_code == 429
            assert 3590 <= int(blocked.headers["Retry-After"]) <= 3600
            assert "signups" in blocked.json()["detail"]
            assert (await signup_status(other, "third")).status_code == 201
        # Another IPv6 address of the same /64 is the same client.
        async with client_from(app, "2001:db8::1") as six, client_from(app, "2001:db8::2") as same:
            assert (await signup_status(six, "six1")).status_code == 201
            assert (await signup_status(same, "six2")).status_code == 201
            assert (await signup_status(same, "six3")).status_code == 429


async def test_racing_signups_cannot_pass_the_limit(database_url: str, tmp_path: Path) -> None:
    async with running_app(database_url, tmp_path, signup_per_hour=3) as app, client_from(app) as http:
        responses = await asyncio.gather(*(signup_status(http, f"burst{index}") for index in range(8)))
        assert sorted(r.status_code for r in responses) == [201] * 3 + [429] * 5


async def test_the_hour_passing_lifts_the_signup_limit(database_url: str, tmp_path: Path) -> None:
    async with running_app(database_url, tmp_path, signup_per_hour=1) as app, client_from(app) as http:
        assert (await signup_status(http, "early")).status_code == 201
        assert (await signup_status(http, "blocked")).status_code == 429
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1, seconds=1)
        async with context_of(app).db.writing() as session:
            await session.execute(update(AddressHit).values(at=an_hour_ago))
        assert (await signup_status(http, "later")).status_code == 201
        async with context_of(app).db.session() as session:
            # The old record was pruned when the new one was written.
            assert len((await session.scalars(select(AddressHit))).all()) == 1


async def login_status(http: httpx.AsyncClient, username: str, password: str) -> int:
    response = await http.post("/api/auth/login", data={"username": username, "password": password})
    return response.status_code


async def test_failed_logins_per_address_across_usernames(database_url: str, tmp_path: Path) -> None:
    settings: dict[str, Any] = {"login_failures_per_address": 4, "login_max_failures": 100}
    async with (
        running_app(database_url, tmp_path, **settings) as app,
        client_from(app, "203.0.113.7") as sprayer,
        client_from(app, "203.0.113.8") as honest,
    ):
        assert (
            await honest.post("/api/auth/signup", json={"username": "ada", "password": PASSWORD})
        ).status_code == 201
        for name in ["ada", "bob", "cyd", "nobody"]:
            assert await login_status(sprayer, name, "wrong password") == 401
        blocked = await sprayer.post("/api/auth/login", data={"username": "ada", "password": PASSWORD})
        assert blocked.status_code == 429
        assert 890 <= int(blocked.headers["Retry-After"]) <= 900
        assert await login_status(sprayer, "someone-new", "x") == 429
        # Another address is not affected, nor is the username (its own limit is far).
        assert await login_status(honest, "ada", PASSWORD) == 200
        # ada's successful login cleared her username's failures, not the sprayer's count.
        assert await login_status(sprayer, "bob", "wrong password") == 429


async def test_the_username_limit_still_holds_across_addresses(database_url: str, tmp_path: Path) -> None:
    async with running_app(database_url, tmp_path, login_max_failures=3) as app:
        for index in range(3):
            async with client_from(app, f"203.0.113.{10 + index}") as http:
                assert await login_status(http, "target", "wrong password") == 401
        async with client_from(app, "203.0.113.99") as http:
            assert await login_status(http, "target", "wrong password") == 429


# --- which address counts, over a real Uvicorn ----------------------------------------------


@contextlib.asynccontextmanager
async def live(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[LiveServer]:
    settings = make_settings(database_url, tmp_path, signup_per_hour=2, **overrides)
    async with serve_in_process(settings) as server:
        yield server


@contextlib.asynccontextmanager
async def peer(server: LiveServer, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose TCP connections come from `address` (any 127/8 address is loopback)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(
        transport=transport, base_url=server.http_url, event_hooks={"response": [refuse_server_errors]}
    ) as http:
        yield http


async def signups(http: httpx.AsyncClient, names: list[str], headers: dict[str, str]) -> list[int]:
    statuses = []
    for name in names:
        response = await http.post(
            "/api/auth/signup", json={"username": name, "password": PASSWORD}, headers=headers
        )
        statuses.append(response.status_code)
    return statuses


def test_the_test_servers_run_with_the_proxy_setting_of_hubbub_serve(tmp_path: Path) -> None:
    settings = make_settings(
        "sqlite+aiosqlite:///unused.db", tmp_path, forwarded_allow_ips="10.0.0.0/8, 10.1.1.1"
    )
    options = uvicorn_options(settings)
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.0/8, 10.1.1.1"
    default = uvicorn_options(make_settings("sqlite+aiosqlite:///unused.db", tmp_path))
    assert default["forwarded_allow_ips"] == "127.0.0.1"  # not Uvicorn's own default, which adds ::1


async def test_forged_headers_from_an_untrusted_peer_change_nothing(
    database_url: str, tmp_path: Path
) -> None:
    """127.0.0.2 is no trusted proxy: whatever it claims, it is 127.0.0.2."""
    async with live(database_url, tmp_path) as server, peer(server, "127.0.0.2") as http:
        statuses = [
            (await signups(http, [f"forger{index}"], headers))[0] for index, headers in enumerate(FORGED)
        ]
        assert statuses == [201, 201] + [429] * (len(FORGED) - 2)
        # The trusted peer, 127.0.0.1, is someone else and may still sign up.
        async with peer(server, "127.0.0.1") as proxy:
            assert await signups(proxy, ["local"], {}) == [201]


async def test_no_peer_is_trusted_when_the_setting_names_others(database_url: str, tmp_path: Path) -> None:
    async with (
        live(database_url, tmp_path, forwarded_allow_ips="10.9.9.9,192.168.0.0/16") as server,
        peer(server, "127.0.0.1") as http,
    ):
        statuses = [
            (await signups(http, [f"forger{index}"], headers))[0] for index, headers in enumerate(FORGED)
        ]
    assert statuses == [201, 201] + [429] * (len(FORGED) - 2)


async def test_a_trusted_proxys_forwarded_for_is_the_client(database_url: str, tmp_path: Path) -> None:
    async with live(database_url, tmp_path) as server, peer(server, "127.0.0.1") as proxy:
        alice = {"X-Forwarded-For": "198.51.100.10"}
        assert await signups(proxy, ["alice1", "alice2", "alice3"], alice) == [201, 201, 429]
        # Another client behind the same proxy has a count of its own; X-Real-IP and
        # Forwarded are never believed, so these are both alice.
        assert await signups(proxy, ["bob1"], {"X-Forwarded-For": "198.51.100.11"}) == [201]
        for headers in [{**alice, "X-Real-IP": "198.51.100.12"}, {**alice, "Forwarded": "for=198.51.100.13"}]:
            assert await signups(proxy, ["alice4"], headers) == [429]
        # The rightmost address the trusted proxy did not add itself: a client cannot hide
        # behind addresses it prepends.
        assert await signups(proxy, ["alice5"], {"X-Forwarded-For": "203.0.113.50, 198.51.100.10"}) == [429]
        # Without the header the proxy is the client.
        assert await signups(proxy, ["proxy1", "proxy2", "proxy3"], {}) == [201, 201, 429]


async def test_hops_through_several_trusted_proxies(database_url: str, tmp_path: Path) -> None:
    """Uvicorn's semantics: walk X-Forwarded-For from the right past every trusted proxy."""
    async with (
        live(database_url, tmp_path, forwarded_allow_ips="127.0.0.1, 10.0.0.0/8") as server,
        peer(server, "127.0.0.1") as proxy,
    ):
        chain = {"X-Forwarded-For": "198.51.100.20, 10.1.2.3"}
        assert await signups(proxy, ["carol1", "carol2"], chain) == [201, 201]
        same_client = {"X-Forwarded-For": "198.51.100.20"}
        assert await signups(proxy, ["carol3"], same_client) == [429]
        # A forged leftmost entry does not matter: 198.51.100.20 is the rightmost untrusted.
        forged = {"X-Forwarded-For": "203.0.113.60, 198.51.100.20, 10.1.2.3"}
        assert await signups(proxy, ["carol4"], forged) == [429]


async def test_trusting_everyone_takes_the_leftmost_address(database_url: str, tmp_path: Path) -> None:
    async with (
        live(database_url, tmp_path, forwarded_allow_ips="*") as server,
        peer(server, "127.0.0.2") as http,
    ):
        dave = {"X-Forwarded-For": "198.51.100.30, 10.0.0.1"}
        assert await signups(http, ["dave1", "dave2", "dave3"], dave) == [201, 201, 429]
        assert await signups(http, ["erin1"], {"X-Forwarded-For": "198.51.100.31"}) == [201]


async def test_failed_logins_count_the_forwarded_client(database_url: str, tmp_path: Path) -> None:
    settings = {"login_failures_per_address": 2, "login_max_failures": 100}
    async with (
        live(database_url, tmp_path, **settings) as server,
        peer(server, "127.0.0.2") as untrusted,
        peer(server, "127.0.0.1") as proxy,
    ):
        for index, headers in enumerate(FORGED[:3]):
            response = await untrusted.post(
                "/api/auth/login", data={"username": f"u{index}", "password": "wrong"}, headers=headers
            )
            assert response.status_code == (401 if index < 2 else 429), headers
        behind = {"X-Forwarded-For": "198.51.100.40"}
        for expected in (401, 401, 429):
            response = await proxy.post(
                "/api/auth/login", data={"username": "v", "password": "wrong"}, headers=behind
            )
            assert response.status_code == expected


async def test_the_in_process_app_reads_only_the_peer(app: FastAPI) -> None:
    """Without Uvicorn's proxy handling in front, the app believes no header at all."""
    async with client_from(app, "203.0.113.70") as http:
        response = await http.post(
            "/api/auth/login",
            data={"username": "z", "password": "wrong"},
            headers={"X-Forwarded-For": "198.51.100.50"},
        )
        assert response.status_code == 401
    async with context_of(app).db.session() as session:
        hits = (await session.execute(select(AddressHit.kind, AddressHit.address))).all()
    assert [tuple(hit) for hit in hits] == [("login_failure", "203.0.113.70")]
