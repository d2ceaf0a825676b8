"""Schemathesis over /openapi.json, every route, signed in as a room owner, a member or a site
admin: no 5xx, and every response as its route declares it (status code, content type, headers,
body)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import update

from api.auth.models import User
from api.config import Settings
from api.db import Database
from api.main import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 20
PASSWORD = "correct horse battery"
USERNAMES = ["owner", "member", "banned", "siteadmin", "guest"]
ROLES = ["owner", "admin", "member"]


@dataclass
class Api:
    schema: schemathesis.BaseSchema
    http: requests.Session
    tokens: dict[str, str]
    # Real values for path parameters, so examples reach past "not found" too.
    ids: dict[str, list[str]]


def account(http: requests.Session, username: str) -> tuple[int, str]:
    created = http.post("/api/auth/signup", json={"username": username, "password": PASSWORD})
    assert created.status_code == 201, created.text
    tokens = http.post("/api/auth/login", data={"username": username, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    return created.json()["id"], tokens.json()["access_token"]


async def make_site_admin(database_url: str, user_id: int) -> None:
    db = Database(database_url)
    try:
        async with db.writing() as session:
            await session.execute(update(User).where(User.id == user_id).values(is_admin=True))
    finally:
        await db.dispose()


def populate(http: requests.Session, settings: Settings) -> tuple[dict[str, str], dict[str, list[str]]]:
    """An owner of a public and a private room with messages, a member, a banned user, a site admin."""
    owner_id, owner = account(http, "owner")
    member_id, member = account(http, "member")
    banned_id, _ = account(http, "banned")
    admin_id, admin = account(http, "siteadmin")
    asyncio.run(make_site_admin(settings.database_url, admin_id))
    headers = {"Authorization": f"Bearer {owner}"}
    rooms = []
    for name, private in (("public", False), ("private", True)):
        room = http.post("/api/rooms", json={"name": name, "is_private": private}, headers=headers)
        assert room.status_code == 201, room.text
        rooms.append(room.json()["id"])
        invited = http.post(f"/api/rooms/{rooms[-1]}/members", json={"username": "member"}, headers=headers)
        assert invited.status_code == 201, invited.text
        for body in ("one", "two", "three"):
            sent = http.post(f"/api/rooms/{rooms[-1]}/messages", json={"body": body}, headers=headers)
            assert sent.status_code == 201, sent.text
        banned = http.post(f"/api/rooms/{rooms[-1]}/bans", json={"user_id": banned_id}, headers=headers)
        assert banned.status_code == 201, banned.text
    users = [str(i) for i in (owner_id, member_id, banned_id, admin_id)]
    for name in USERNAMES[4:]:
        account(http, name)
    invite = http.post("/api/admin/invites", json={"uses": 2}, headers={"Authorization": f"Bearer {admin}"})
    assert invite.status_code == 201, invite.text
    sessions = [
        str(s["id"])
        for token in (owner, member)
        for s in http.get("/api/users/me/sessions", headers={"Authorization": f"Bearer {token}"}).json()
    ]
    ids = {
        "room_id": [str(r) for r in rooms],
        "user_id": users,
        "seq": ["1", "2", "3"],
        "invite_id": [str(invite.json()["id"])],
        "session_id": sessions,
    }
    return {"owner": owner, "member": member, "site admin": admin}, ids


def valid_bodies(user_ids: list[int]) -> dict[str, st.SearchStrategy[Any]]:
    """Bodies these routes accept, drawn now and then: arbitrary text rarely makes a valid room
    name or message, and the 2xx answers need checking against their schemas too."""
    text = st.text(
        st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zs"]), min_size=1, max_size=40
    )
    return {
        "POST /api/rooms": st.fixed_dictionaries(
            {"name": text}, optional={"description": text, "is_private": st.booleans()}
        ),
        "PATCH /api/rooms/{room_id}": st.fixed_dictionaries({}, optional={"name": text, "description": text}),
        "POST /api/rooms/{room_id}/members": st.fixed_dictionaries(
            {"username": st.sampled_from(USERNAMES)}, optional={"role": st.sampled_from(ROLES)}
        ),
        "PATCH /api/rooms/{room_id}/members/{user_id}": st.fixed_dictionaries(
            {"role": st.sampled_from(ROLES)}
        ),
        "POST /api/rooms/{room_id}/bans": st.fixed_dictionaries({"user_id": st.sampled_from(user_ids)}),
        "POST /api/rooms/{room_id}/messages": st.fixed_dictionaries(
            {"body": text}, optional={"nonce": st.sampled_from(["a", "b"])}
        ),
        "PATCH /api/rooms/{room_id}/messages/{seq}": st.fixed_dictionaries({"body": text}),
        "POST /api/direct": st.fixed_dictionaries({"username": st.sampled_from(USERNAMES)}),
    }


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    # Schemathesis runs the app, lifespan included, on an event loop in a thread of its own.
    app = create_app(settings)
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        with asgi.get_client(app) as http:
            tokens, ids = populate(http, settings)
            yield Api(schema, http, tokens, ids)
    finally:
        asgi.shutdown_lifespans()


def run_operation(api: Api, operation: Any) -> None:
    bodies = valid_bodies([int(user_id) for user_id in api.ids["user_id"]])
    cases = st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]).flatmap(
        lambda mode: operation.as_strategy(generation_mode=mode)
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, who=st.sampled_from(sorted(api.tokens)), real=st.data())
    def check(case: Any, who: str, real: st.DataObject) -> None:
        for name in case.path_parameters or {}:
            if name in api.ids and real.draw(st.booleans()):
                case.path_parameters[name] = real.draw(st.sampled_from(api.ids[name]))
        if case.operation.label in bodies and real.draw(st.booleans()):
            case.body = real.draw(bodies[case.operation.label])
        case.call_and_validate(
            session=api.http, headers={"Authorization": f"Bearer {api.tokens[who]}"}, checks=CHECKS
        )

    check()


def destructiveness(operation: Any) -> int:
    """Deletes, leaving and account changes last, rooms deleted at the very end, so the other routes meet
    the rooms, members and messages while they exist; logging out everywhere after everything, for it
    revokes the callers' tokens. The sort is stable."""
    if operation.path == "/api/auth/logout-all":
        return 3
    if operation.method.upper() == "DELETE" and operation.path.endswith("{room_id}"):
        return 2
    return int(
        operation.method.upper() == "DELETE"
        or operation.path.endswith("/leave")
        or operation.path.startswith("/api/admin/users/")
    )


def test_every_operation_keeps_to_its_openapi_contract(api: Api) -> None:
    operations = [result.ok() for result in api.schema.get_all_operations()]
    assert len(operations) >= 25
    operations.sort(key=destructiveness)
    failures: dict[str, str] = {}
    for operation in operations:
        try:
            run_operation(api, operation)
        except (FailureGroup, AssertionError) as exc:
            failures[operation.label] = str(exc)
    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())
