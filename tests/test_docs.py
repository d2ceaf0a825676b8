"""/docs and /redoc as the admin console: served from Hubbub's own assets, documented."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import httpx

from api.docs.router import ASSETS_PATH, ASSETS_VERSION

PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect")


async def test_the_pages_load_only_what_hubbub_serves(client: httpx.AsyncClient) -> None:
    for page in PAGES:
        response = await client.get(page)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"
        links = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert all(link.startswith("/") and not link.startswith("//") for link in links), links
        for link in links:
            asset = await client.get(link)
            assert asset.status_code == 200, link


async def test_assets_are_versioned_and_kept_for_a_year(client: httpx.AsyncClient) -> None:
    assert f"/docs/assets/{ASSETS_VERSION}" == ASSETS_PATH
    for name, kind in [
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "text/css"),
        ("redoc.standalone.js", "javascript"),
    ]:
        response = await client.get(f"{ASSETS_PATH}/{name}")
        assert response.status_code == 200
        assert kind in response.headers["content-type"]
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert len(response.content) > 100_000
        again = await client.get(f"{ASSETS_PATH}/{name}", headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
    for hostile in ("../router.py", "..%2f..%2fapi%2fmain.py", "%00", "nothing.js"):
        assert (await client.get(f"{ASSETS_PATH}/{hostile}")).status_code == 404


async def test_each_inline_script_is_allowed_by_its_hash(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/docs/oauth2-redirect"):
        response = await client.get(page)
        [script] = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        policy = response.headers["content-security-policy"]
        assert f"script-src 'self' 'sha256-{digest}';" in policy
    # The console never asks swagger.io to validate the schema.
    assert '"validatorUrl": null' in (await client.get("/docs")).text


def admin_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/admin")
        for method, operation in operations.items()
    ]


async def test_every_admin_operation_says_who_may_call_it_and_how_it_fails(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operations = admin_operations(schema)
    assert len(operations) >= 6
    for method, path, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation["summary"], where
        assert operation["description"].startswith("**Site admins"), where
        assert operation["tags"] == ["admin"], where
        assert {"401", "403"} <= set(operation["responses"]), where
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in operation["responses"], where
        if "{" in path:
            assert "404" in operation["responses"], where
    patch = schema["paths"]["/api/admin/users/{user_id}"]["patch"]
    examples = patch["requestBody"]["content"]["application/json"]["examples"]
    assert {example["summary"] for example in examples.values()} >= {
        "Deactivate an account",
        "Make a site admin",
    }


async def test_the_console_explains_itself(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    description = schema["info"]["description"]
    for words in ("Authorize", "username and password", "hubbub create-admin", "audit log", "*admin*"):
        assert words in description
    assert [tag["name"] for tag in schema["tags"]] == [
        "admin",
        "auth",
        "rooms",
        "messages",
        "reading",
        "search",
        "operations",
    ]
