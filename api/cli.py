"""The `hubbub` command: serve, migrate, create-admin, create-bot, backup."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import ValidationError
from sqlalchemy import make_url, select, update
from uvicorn.config import STARTUP_FAILURE

from api.auth.models import User
from api.auth.passwords import PasswordHasher
from api.auth.schemas import SignupRequest
from api.auth.service import add_user, new_user
from api.backup import BackupError, backup_sqlite
from api.bots.schemas import BotCreate
from api.bots.service import create_bot
from api.config import Settings
from api.db import Database
from api.errors import Conflict
from api.logs import RequestContext, formatter_for, logging_config
from api.migrate import upgrade
from api.serving import WS_PROTOCOL, GracefulServer

logger = logging.getLogger("hubbub")

APP = "api.main:create_app"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        problems = "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
        logger.error("configuration error: %s", problems)
        return 2
    handler = logging.StreamHandler()
    handler.setFormatter(formatter_for(settings))
    handler.addFilter(RequestContext())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger().setLevel(settings.log_level)
    result: int = args.handler(settings, args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hubbub", description="Hubbub real-time collaboration server")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate the database, then serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (more than 1 needs Redis)")
    serve.add_argument("--no-migrate", action="store_true", help="refuse a database that is behind instead")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(handler=_migrate)

    admin = commands.add_parser("create-admin", help="create a site admin, or make a user one")
    admin.add_argument("username")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    admin.add_argument("--display-name")
    admin.set_defaults(handler=_create_admin)

    bot = commands.add_parser(
        "create-bot", help="create a bot and print its first API token (the only output on stdout)"
    )
    bot.add_argument("username")
    bot.add_argument("--display-name")
    bot.set_defaults(handler=_create_bot)

    backup = commands.add_parser(
        "backup", help="copy the SQLite database while the server runs (PostgreSQL: use pg_dump)"
    )
    backup.add_argument("path", type=Path, help="the backup file to write (replaced if it exists)")
    backup.set_defaults(handler=_backup)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    if args.workers > 1 and not settings.uses_redis:
        logger.error(
            "--workers %d needs BROKER_URL=redis://...: workers share live rooms through it",
            args.workers,
        )
        return 2
    if not args.no_migrate:
        upgrade(settings.database_url)
    options: dict[str, Any] = {
        "factory": True,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "loop": "uvloop",
        "http": "httptools",
        "log_level": settings.log_level.lower(),
        "log_config": logging_config(settings),
        **uvicorn_options(settings),
    }
    if args.workers > 1:
        # The parent process supervises the workers and exits 0 after stopping them.
        uvicorn.run(APP, **options)
        return 0
    server = GracefulServer(uvicorn.Config(APP, **options))
    server.run()
    return 0 if server.started else STARTUP_FAILURE


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The Uvicorn options the app relies on; the test servers run with the same ones."""
    return {
        "ws": WS_PROTOCOL,
        "ws_max_size": settings.ws_max_frame_bytes,
        "ws_per_message_deflate": False,
        "timeout_graceful_shutdown": int(settings.shutdown_grace_seconds) + 1,
        # Uvicorn alone reads X-Forwarded-For, and only from these peers: it puts the client
        # it names in the ASGI scope, which is all the app reads (api/deps.py).
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    logger.info("the database is up to date")
    return 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    if make_url(settings.database_url).get_backend_name() != "sqlite":
        logger.error(
            "hubbub backup copies SQLite databases; back up PostgreSQL with pg_dump "
            "(for example: pg_dump --format=custom --file=hubbub.dump DATABASE), see the README"
        )
        return 2
    try:
        size = backup_sqlite(settings.database_url, args.path)
    except BackupError as exc:
        logger.error("%s", exc)
        return 2
    logger.info("backed up the database to %s (%d bytes)", args.path, size)
    return 0


def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    return asyncio.run(_make_admin(settings, args))


def _log_invalid(exc: ValidationError) -> None:
    logger.error("%s", "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors()))


async def _make_admin(settings: Settings, args: argparse.Namespace) -> int:
    db = Database(settings.database_url)
    hasher = PasswordHasher(settings)
    try:
        async with db.session() as session:
            existing = await session.scalar(select(User).where(User.username_key == args.username.lower()))
        if existing is not None and existing.is_bot:
            logger.error("%s is a bot; a bot cannot be a site admin", existing.username)
            return 2
        if existing is not None:
            async with db.writing() as session:
                await session.execute(update(User).where(User.id == existing.id).values(is_admin=True))
            logger.info("%s is now a site admin", existing.username)
            return 0
        password = _read_password(args.password_stdin)
        try:
            data = SignupRequest(username=args.username, password=password, display_name=args.display_name)
        except ValidationError as exc:
            _log_invalid(exc)
            return 2
        password_hash = await hasher.hash(data.password)
        async with db.writing() as session:
            await add_user(session, new_user(data, password_hash, is_admin=True))
        logger.info("created site admin %s", data.username)
        return 0
    finally:
        hasher.close()
        await db.dispose()


def _create_bot(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    return asyncio.run(_make_bot(settings, args))


async def _make_bot(settings: Settings, args: argparse.Namespace) -> int:
    try:
        data = BotCreate(username=args.username, display_name=args.display_name)
    except ValidationError as exc:
        _log_invalid(exc)
        return 2
    db = Database(settings.database_url)
    try:
        created = await create_bot(db=db, actor_id=None, data=data)
    except Conflict as exc:
        logger.error("%s: %s", data.username, exc.detail)
        return 2
    finally:
        await db.dispose()
    # The token alone on stdout, so scripts can take it: TOKEN=$(hubbub create-bot ci-bot)
    sys.stdout.write(created.token + "\n")
    sys.stdout.flush()
    logger.info("created bot %s (id %d); its API token is shown this once", data.username, created.user.id)
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise SystemExit("the passwords differ")
    return password


if __name__ == "__main__":
    raise SystemExit(main())
