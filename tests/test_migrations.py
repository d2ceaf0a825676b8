"""The migrations build exactly the schema the models describe, and undo it."""

from __future__ import annotations

from alembic import command

from api.migrate import alembic_config, upgrade
from tests.conftest import MigratedDatabase


def test_the_migrated_schema_matches_the_models(test_database: MigratedDatabase) -> None:
    # Raises when autogenerate would find anything to add, drop or change.
    command.check(alembic_config(test_database.template_url))


def test_the_migrations_go_down_and_up_again(tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/roundtrip.db"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    upgrade(url)
    command.check(alembic_config(url))
