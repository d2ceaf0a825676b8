"""`hubbub backup PATH`: a consistent SQLite copy taken while the server writes, which restores."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from api.cli import main
from api.main import create_app
from tests.conftest import make_settings
from tests.factories import create_room, send, signup
from tests.servers import LiveServer, serve_in_process


@pytest.fixture
def sqlite_only(database_url: str) -> str:
    if not database_url.startswith("sqlite"):
        pytest.skip("hubbub backup copies SQLite databases (PostgreSQL has pg_dump)")
    return database_url


@pytest.fixture
def run_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Path], int]:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))

    def run(database_url: str, path: Path) -> int:
        monkeypatch.setenv("DATABASE_URL", database_url)
        return main(["backup", str(path)])

    return run


async def test_a_backup_taken_while_messages_arrive_restores_them(
    sqlite_only: str, tmp_path: Path, run_backup: Callable[[str, Path], int]
) -> None:
    backup = tmp_path / "backups" / "hubbub.db"
    backup.parent.mkdir()
    async with (
        serve_in_process(make_settings(sqlite_only, tmp_path)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=10) as http,
    ):
        ada = await signup(http, "ada")
        room = await create_room(http, ada)
        before = [await send(http, ada, room["id"], f"before {index}") for index in range(20)]

        under_way = asyncio.Event()

        async def keep_talking() -> None:
            for index in range(200):
                await send(http, ada, room["id"], f"during {index}")
                if index == 5:
                    under_way.set()

        talking = asyncio.create_task(keep_talking())
        await asyncio.wait_for(under_way.wait(), 10)
        assert await asyncio.to_thread(run_backup, sqlite_only, backup) == 0
        await talking
    restored = await read_back(backup, tmp_path / "restore", ada.username)
    assert [m["body"] for m in restored[:20]] == [m["body"] for m in before]
    # One instant's copy: every seq up to the room's last, nothing torn.
    assert [m["seq"] for m in restored] == list(range(1, len(restored) + 1))
    assert not list(backup.parent.glob(".*partial"))
    assert not (backup.parent / "hubbub.db-wal").exists()


def restore(backup: Path, restored: Path) -> None:
    restored.parent.mkdir()
    shutil.copyfile(backup, restored)


async def read_back(backup: Path, directory: Path, username: str) -> list[dict[str, object]]:
    """Restore as the README says (copy the file into place), serve it, and read the room."""
    restored = directory / "hubbub.db"
    await asyncio.to_thread(restore, backup, restored)
    settings = make_settings(f"sqlite+aiosqlite:///{restored}", directory)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://restored") as http,
    ):
        login = await http.post(
            "/api/auth/login", data={"username": username, "password": "correct horse battery"}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        [room] = (await http.get("/api/rooms", headers=headers)).json()
        messages: list[dict[str, object]] = []
        after = 0
        while True:
            page = (
                await http.get(
                    f"/api/rooms/{room['id']}/messages",
                    params={"after": after, "limit": 200},
                    headers=headers,
                )
            ).json()
            messages += page["messages"]
            if not page["has_more"]:
                break
            after = messages[-1]["seq"]  # type: ignore[assignment]
        assert room["last_seq"] == len(messages)
    return messages


async def test_a_backup_replaces_an_older_one(
    sqlite_only: str, live_server: LiveServer, tmp_path: Path, run_backup: Callable[[str, Path], int]
) -> None:
    backup = tmp_path / "backup.db"
    backup.write_text("yesterday's backup")
    async with httpx.AsyncClient(base_url=live_server.http_url) as http:
        await signup(http, "ada")
    assert await asyncio.to_thread(run_backup, sqlite_only, backup) == 0
    assert backup.read_bytes().startswith(b"SQLite format 3\x00")


@pytest.mark.parametrize("where", ["missing-directory/backup.db", ".", "the database"])
def test_a_backup_that_cannot_be_written_is_refused_clearly(
    sqlite_only: str,
    tmp_path: Path,
    run_backup: Callable[[str, Path], int],
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    database = Path(sqlite_only.removeprefix("sqlite+aiosqlite:///"))
    target = database if where == "the database" else tmp_path / where
    original = database.read_bytes()
    with caplog.at_level(logging.ERROR):
        assert run_backup(sqlite_only, target) == 2
    assert caplog.records[-1].getMessage()
    assert database.read_bytes() == original


def test_there_must_be_a_database_to_back_up(
    tmp_path: Path, run_backup: Callable[[str, Path], int], caplog: pytest.LogCaptureFixture
) -> None:
    missing = f"sqlite+aiosqlite:///{tmp_path / 'nothing.db'}"
    with caplog.at_level(logging.ERROR):
        assert run_backup(missing, tmp_path / "backup.db") == 2
    assert "there is no SQLite database" in caplog.text
    assert not (tmp_path / "nothing.db").exists()


def test_postgresql_is_backed_up_with_pg_dump(
    tmp_path: Path, run_backup: Callable[[str, Path], int], caplog: pytest.LogCaptureFixture
) -> None:
    url = "postgresql+asyncpg://hubbub@127.0.0.1:1/hubbub"  # never connected to
    with caplog.at_level(logging.ERROR):
        assert run_backup(url, tmp_path / "backup.db") == 2
    assert "pg_dump" in caplog.text
    assert not (tmp_path / "backup.db").exists()
