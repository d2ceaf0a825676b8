"""Helpers for the browser tests: a restartable server, a REST client, page actions."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Locator, Page, expect
from sqlalchemy import update

from api.auth.models import User
from api.auth.schemas import UserSummary
from api.config import Settings
from api.main import create_app
from tests.servers import ROOT, free_port, uvicorn_config

PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Screenshots for a person to look at (not committed).
SCREENSHOTS = ROOT / "test-output" / "screenshots"
# Every browser test module: `pytestmark = BROWSER_TESTS`.
BROWSER_TESTS = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
_nonces = itertools.count(1)


class RestartableServer:
    """Uvicorn on a fixed port: `stop()` then `start()` is a server restart on the same
    database, as an operator's `systemctl restart` would be."""

    def __init__(self, settings: Settings, port: int | None = None) -> None:
        self.settings = settings
        self.port = port or free_port()
        self.app: FastAPI | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.app = create_app(self.settings)
        server = uvicorn.Server(uvicorn_config(self.app, self.settings, self.port))
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the server stopped while starting")
            await asyncio.sleep(0.01)
        self._server, self._task = server, task

    async def create_admin(self, username: str, display_name: str) -> Person:
        """What `hubbub create-admin` does, on the running server (whatever SIGNUP says)."""
        assert self.app is not None
        context = self.app.state.context
        password_hash = await context.hasher.hash(PASSWORD)
        async with context.db.writing() as session:
            user = User(
                username=username,
                username_key=username.lower(),
                display_name=display_name,
                password_hash=password_hash,
                is_admin=True,
                is_active=True,
            )
            session.add(user)
            await session.flush()
            user_id = user.id
        admin = Person(self.http_url, username, display_name, id=user_id)
        await admin.log_in()
        return admin

    async def make_admin(self, user_id: int) -> None:
        """What `hubbub create-admin` does, on the running server's database."""
        assert self.app is not None
        async with self.app.state.context.db.writing() as session:
            await session.execute(update(User).where(User.id == user_id).values(is_admin=True))

    async def seed(self, room: dict[str, Any], author: Person, bodies: list[str]) -> None:
        """Many messages at once through the running server's writer, in this order (a few
        batched commits, not one request each): history to scroll through or search."""
        assert self.app is not None
        writer = self.app.state.context.writer
        summary = UserSummary(id=author.id, username=author.username, display_name=author.display_name)
        await asyncio.gather(
            *(writer.enqueue(room_id=room["id"], author=summary, body=body, nonce=None) for body in bodies)
        )

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await asyncio.wait_for(self._task, timeout=30)
        self._server = self._task = None


@dataclass
class Person:
    """Someone using the API directly, as a bot or another client would."""

    base_url: str
    username: str
    display_name: str
    token: str = ""
    id: int = 0
    refresh_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            response = await http.request(method, path, headers=self.headers, **kwargs)
            if response.status_code == 401:  # short-lived tokens in some tests: log in again
                await self.log_in()
                response = await http.request(method, path, headers=self.headers, **kwargs)
        assert response.status_code < 400, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    async def create_room(self, name: str, *, private: bool = False, description: str = "") -> dict[str, Any]:
        room = await self.call(
            "POST", "/api/rooms", json={"name": name, "is_private": private, "description": description}
        )
        assert isinstance(room, dict)
        return room

    async def join(self, room: dict[str, Any]) -> None:
        await self.call("POST", f"/api/rooms/{room['id']}/join")

    async def say(self, room: dict[str, Any], *bodies: str) -> list[dict[str, Any]]:
        """Send messages over REST, one after the other, each with its own nonce."""
        sent = []
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            for body in bodies:
                path = f"/api/rooms/{room['id']}/messages"
                payload = {"body": body, "nonce": f"n{next(_nonces)}"}
                response = await http.post(path, json=payload, headers=self.headers)
                if response.status_code == 401:
                    await self.log_in()
                    response = await http.post(path, json=payload, headers=self.headers)
                assert response.status_code == 201, response.text
                sent.append(response.json())
        return sent

    async def edit(self, room: dict[str, Any], seq: int, body: str) -> None:
        await self.call("PATCH", f"/api/rooms/{room['id']}/messages/{seq}", json={"body": body})

    async def log_in(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            login = await http.post("/api/auth/login", data={"username": self.username, "password": PASSWORD})
        assert login.status_code == 200, login.text
        self.token = login.json()["access_token"]
        self.refresh_token = login.json()["refresh_token"]


async def person(base_url: str, username: str, display_name: str | None = None) -> Person:
    """Sign up and log in over REST."""
    display = display_name or username.capitalize()
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        created = await http.post(
            "/api/auth/signup", json={"username": username, "password": PASSWORD, "display_name": display}
        )
    assert created.status_code == 201, created.text
    someone = Person(base_url, username, display, id=created.json()["id"])
    await someone.log_in()
    return someone


# --- in the page ---------------------------------------------------------------------


async def sign_up(page: Page, base_url: str, username: str, display_name: str) -> None:
    await page.goto(base_url + "/")
    await page.get_by_role("tab", name="Create account").click()
    form = page.locator("#signup-panel")
    await form.get_by_label("Username").fill(username)
    await form.get_by_label("Display name").fill(display_name)
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Create account").click()
    await expect(page.locator(".sidebar .me-name")).to_have_text(display_name)


async def log_in(page: Page, base_url: str, username: str, *, path: str = "/") -> None:
    await page.goto(base_url + path)
    form = page.locator("#login-panel")
    await form.get_by_label("Username").fill(username)
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Log in").click()
    # Attached, not visible: at phone size the sidebar is a closed drawer.
    await expect(page.locator(".sidebar .me-name")).to_have_text(re.compile(r"\S"))


async def open_room(page: Page, name: str) -> None:
    await page.locator(".room-link", has_text=name).click()
    await expect(page.locator("#room-title")).to_have_text(name)
    await expect_connected(page)


async def expect_connected(page: Page, timeout: float = 10_000) -> None:
    await expect(page.locator("#connection")).to_have_attribute(
        "data-connection-state", "connected", timeout=timeout
    )


async def send(page: Page, body: str) -> None:
    composer = page.locator("#composer textarea")
    await composer.fill(body)
    await composer.press("Enter")


async def confirmed_bodies(page: Page) -> list[str]:
    """The text of every confirmed message on screen, top to bottom."""
    bodies: list[str] = await page.locator("#messages .msg[data-seq] .msg-text").all_inner_texts()
    return bodies


async def shown_seqs(page: Page) -> list[int]:
    seqs: list[str] = await page.locator("#messages .msg[data-seq]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.seq)"
    )
    return [int(seq) for seq in seqs]


def message(page: Page, body: str) -> Locator:
    """The confirmed message whose body is exactly `body`."""
    return page.locator("#messages .msg[data-seq]").filter(
        has=page.locator(".msg-text").get_by_text(body, exact=True)
    )


async def record_connection_states(page: Page) -> Callable[[], Awaitable[list[str]]]:
    """Start recording every connection state the page shows; returns a reader."""
    await page.evaluate(
        """() => {
          window.__states = [];
          const target = document.getElementById('connection');
          new MutationObserver(() => window.__states.push(target.dataset.connectionState))
            .observe(target, { attributes: true, attributeFilter: ['data-connection-state'] });
        }"""
    )

    async def read() -> list[str]:
        seen: list[str] = await page.evaluate("window.__states")
        return seen

    return read


async def unlabelled_controls(page: Page) -> list[str]:
    """Controls a screen reader could not name: every one needs a label."""
    missing: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button, summary, a[href]')]
          .filter((el) => el.getClientRects().length > 0 || el.closest('details'))
          .filter((el) => !(
            (el.labels && el.labels.length) || el.getAttribute('aria-label')
            || el.getAttribute('aria-labelledby') || el.textContent.trim()))
          .map((el) => el.outerHTML.slice(0, 120))"""
    )
    return missing


async def eventually(read: Callable[[], Awaitable[Any]], check: Callable[[Any], bool], timeout: float) -> Any:
    """Poll `read()` until `check` holds for its value; fail with the last value seen."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if check(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s")
        await asyncio.sleep(0.1)


async def settle(page: Page) -> None:
    """Before a screenshot: let transitions finish and the mouse leave any message."""
    await page.mouse.move(0, 0)
    await page.wait_for_timeout(350)
