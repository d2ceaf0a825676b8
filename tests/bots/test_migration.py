"""The bots and API tokens migration upgrades a database holding real data, and goes back down."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from api.migrate import alembic_config, upgrade


def bots_revision() -> tuple[str, str]:
    """(revision, down_revision) of the migration, read from it: the lead re-chains them."""
    scripts = ScriptDirectory.from_config(alembic_config(""))
    [script] = [s for s in scripts.walk_revisions() if s.path.endswith("_bots_and_api_tokens.py")]
    assert isinstance(script.down_revision, str)
    return script.revision, script.down_revision


def test_the_migration_keeps_existing_users_as_people(tmp_path: Path) -> None:
    revision, previous = bots_revision()
    path = tmp_path / "filled.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, previous)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO users (id, username, username_key, display_name, password_hash, is_admin, "
            "is_active, created_at) VALUES (1, 'Ada', 'ada', 'Ada', '$argon2id', 1, 1, '2026-11-22 10:00:00')"
        )
        db.execute(
            "INSERT INTO rooms (id, name, name_key, description, is_private, created_at, last_seq, last_rev) "
            "VALUES (1, 'general', 'general', '', 0, '2026-11-22 10:00:00', 1, 1)"
        )
        db.execute(
            "INSERT INTO messages (id, room_id, seq, rev, author_id, body, created_at) "
            "VALUES (1, 1, 1, 1, 1, 'kept', '2026-11-22 10:00:01')"
        )
    upgrade(url, revision)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT username, is_bot FROM users").fetchall() == [("Ada", 0)]
        assert db.execute("SELECT body FROM messages").fetchall() == [("kept",)]
        db.execute(
            "INSERT INTO users (id, username, username_key, display_name, password_hash, is_admin, "
            "is_active, is_bot, created_at) VALUES (2, 'ci', 'ci', 'ci', '!', 0, 1, 1, '2026-11-22 10:00:02')"
        )
        db.execute(
            "INSERT INTO api_tokens (user_id, name, secret_hash, created_at) "
            "VALUES (2, 'default', 'ab12', '2026-11-22 10:00:02')"
        )
        # A hash is unique: two tokens cannot share one.
        try:
            db.execute(
                "INSERT INTO api_tokens (user_id, name, secret_hash, created_at) "
                "VALUES (1, 'copy', 'ab12', '2026-11-22 10:00:03')"
            )
        except sqlite3.IntegrityError:
            pass
        else:
            raise AssertionError("a duplicate secret_hash was stored")
    command.downgrade(alembic_config(url), previous)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT username FROM users ORDER BY id").fetchall() == [("Ada",), ("ci",)]
        assert db.execute("SELECT body FROM messages").fetchall() == [("kept",)]
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "api_tokens" not in tables
        columns = {row[1] for row in db.execute("PRAGMA table_info(users)")}
        assert "is_bot" not in columns
    upgrade(url)
    command.check(alembic_config(url))
