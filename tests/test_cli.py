"""The `hubbub` command: migrate, create-admin, create-bot, and serve's refusals."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from api.auth.models import User
from api.cli import main
from api.db import Database
from api.serving import GracefulServer
from api.tokens.codec import secret_hash
from api.tokens.models import ApiToken

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PASSWORD_MEMORY_KIB", "64")
    monkeypatch.setenv("PASSWORD_TIME_COST", "1")
    return url


def users(url: str) -> list[tuple[str, bool]]:
    async def read() -> list[tuple[str, bool]]:
        db = Database(url)
        try:
            async with db.session() as session:
                rows = await session.execute(select(User.username, User.is_admin).order_by(User.id))
                return [(name, admin) for name, admin in rows.all()]
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_create_admin_reads_the_password_from_stdin(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long password\n"))
    assert main(["create-admin", "Root", "--password-stdin"]) == 0
    assert users(cli_env) == [("Root", True)]


def test_create_admin_prompts_twice(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["a long password", "a long password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["create-admin", "root"]) == 0
    assert users(cli_env) == [("root", True)]


def test_create_admin_refuses_different_passwords(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["a long password", "another password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(SystemExit):
        main(["create-admin", "root"])


def test_create_admin_refuses_a_bad_username_or_password(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["create-admin", "root", "--password-stdin"]) == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long password\n"))
    assert main(["create-admin", "no spaces allowed", "--password-stdin"]) == 2
    assert users(cli_env) == []


def test_create_admin_promotes_an_existing_user(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long password\n"))
    main(["create-admin", "ada", "--password-stdin"])
    assert main(["create-admin", "ADA"]) == 0  # no password asked: the user exists
    assert users(cli_env) == [("ada", True)]


def test_create_bot_prints_its_token_alone_on_stdout(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create-bot", "CI-Bot", "--display-name", "CI results"]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"hbb_[0-9A-Za-z]{49}\n", out), out
    token = out.strip()

    async def read() -> tuple[object, ...]:
        db = Database(cli_env)
        try:
            async with db.session() as session:
                row = await session.execute(
                    select(
                        User.username, User.display_name, User.is_bot, User.is_admin, ApiToken.secret_hash
                    ).join(ApiToken, ApiToken.user_id == User.id)
                )
                return tuple(row.one())
        finally:
            await db.dispose()

    assert asyncio.run(read()) == ("CI-Bot", "CI results", True, False, secret_hash(token))
    # Taken (ignoring case) or malformed: exit 2, nothing on stdout, nothing made.
    assert main(["create-bot", "ci-bot"]) == 2
    assert main(["create-bot", "no spaces"]) == 2
    assert main(["create-bot", "fine", "--display-name", "   "]) == 2
    assert capsys.readouterr().out == ""
    assert users(cli_env) == [("CI-Bot", False)]


def test_create_admin_will_not_make_a_bot_an_admin(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["create-bot", "ci-bot"]) == 0
    assert main(["create-admin", "CI-BOT"]) == 2  # a bot has no password to log in with
    assert users(cli_env) == [("ci-bot", False)]


def test_serve_refuses_several_workers_without_redis(cli_env: str) -> None:
    assert main(["serve", "--workers", "2"]) == 2


def test_a_bad_configuration_is_reported_clearly(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "migrate"],
        cwd=ROOT,
        env={"ENVIRONMENT": "production", "DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SECRET_KEY must be set in production" in result.stderr


def test_hubbub_is_installed_as_a_command() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "hubbub"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "create-admin" in result.stdout
    assert "create-bot" in result.stdout


def test_serve_hands_the_proxy_setting_to_uvicorn(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Uvicorn reads X-Forwarded-For with exactly the peers the settings trust (not its own
    default, which adds ::1), so Hubbub's client addresses are the ones Uvicorn logs."""
    calls: list[uvicorn.Config] = []

    def run(server: GracefulServer) -> None:
        calls.append(server.config)
        server.started = True

    monkeypatch.setattr("api.cli.GracefulServer.run", run)
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/8,192.0.2.7")
    assert main(["serve", "--no-migrate"]) == 0
    assert calls[0].proxy_headers is True
    assert calls[0].forwarded_allow_ips == "10.0.0.0/8,192.0.2.7"
    monkeypatch.delenv("FORWARDED_ALLOW_IPS")
    assert main(["serve", "--no-migrate"]) == 0
    assert calls[1].forwarded_allow_ips == "127.0.0.1"


def test_serve_refuses_a_proxy_setting_that_is_no_address(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "proxy.internal")
    assert main(["serve", "--no-migrate"]) == 2
