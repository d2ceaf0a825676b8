"""The audit log's migration upgrades a database holding real data, and goes back down."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from api.migrate import alembic_config, upgrade


def audit_revision() -> tuple[str, str]:
    """(revision, down_revision) of the migration that adds the audit log, read from it."""
    scripts = ScriptDirectory.from_config(alembic_config(""))
    [script] = [s for s in scripts.walk_revisions() if s.path.endswith("_audit_log.py")]
    assert isinstance(script.down_revision, str)
    return script.revision, script.down_revision


def test_the_audit_log_migration_keeps_existing_data(tmp_path: Path) -> None:
    revision, previous = audit_revision()
    path = tmp_path / "filled.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, previous)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO users (id, username, username_key, display_name, password_hash, is_admin, "
            "is_active, created_at) VALUES (1, 'Ada', 'ada', 'Ada', '!', 1, 1, '2026-11-22 10:00:00')"
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
        assert db.execute("SELECT body FROM messages").fetchall() == [("kept",)]
        db.execute(
            "INSERT INTO audit_log (at, actor_id, action, room_id, detail) "
            """VALUES ('2026-11-22 10:00:02', 1, 'room_update', 1, '{"name": "x"}')"""
        )
        assert db.execute("SELECT action, detail FROM audit_log").fetchall() == [
            ("room_update", '{"name": "x"}')
        ]
    command.downgrade(alembic_config(url), previous)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT username FROM users").fetchall() == [("Ada",)]
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "audit_log" not in tables
    upgrade(url)
    command.check(alembic_config(url))
