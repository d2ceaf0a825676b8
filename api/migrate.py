"""Running Alembic from code: `hubbub serve` migrates first, the app checks it is current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from api.db import Database

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SchemaOutOfDate(RuntimeError):
    """The database is not at the schema revision this code expects."""


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate to `revision`. Synchronous: call it before an event loop runs."""
    command.upgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def ensure_current(database: Database) -> None:
    """Refuse to serve a database that is behind (or ahead of) the code."""
    head = head_revision()
    async with database.engine.connect() as connection:
        current = await connection.run_sync(_current_revision)
    if current != head:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current or 'none'} but this version of "
            f"Hubbub needs {head}: run `hubbub migrate` (or `hubbub serve`, which migrates first)"
        )
