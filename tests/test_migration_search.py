"""The migration of search indexes and direct rooms on a database holding data of the revision before."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy.exc import IntegrityError

from api.migrate import alembic_config, upgrade
from tests.migrating import empty_url, migration, run

REVISION = migration("_search_and_direct_rooms.py")
PREVIOUS = str(REVISION.down_revision)

__all__ = ["empty_url"]  # the fixture, for pytest

ROWS = [
    "INSERT INTO users "
    "(id, username, username_key, display_name, password_hash, is_admin, is_active, created_at) "
    "VALUES (1, 'Ada', 'ada', 'Ada', '!', false, true, '2026-01-01 00:00:00+00:00'), "
    "(2, 'bob', 'bob', 'Bob', '!', false, true, '2026-01-01 00:00:00+00:00')",
    "INSERT INTO rooms (id, name, name_key, description, is_private, created_at, last_seq) "
    "VALUES (1, 'General', 'general', '', false, '2026-01-01 00:00:00+00:00', 3)",
    "INSERT INTO memberships (room_id, user_id, role, joined_at) "
    "VALUES (1, 1, 'owner', '2026-01-01 00:00:00+00:00'), (1, 2, 'member', '2026-01-01 00:00:00+00:00')",
    "INSERT INTO messages (id, room_id, seq, rev, author_id, body, created_at, edited_at, deleted_at) VALUES "
    "(1, 1, 1, 1, 1, 'the old river flows', '2026-01-01 00:00:00+00:00', NULL, NULL), "
    "(2, 1, 2, 2, 2, 'an edited river note', '2026-01-01 00:00:01+00:00', "
    "'2026-01-01 00:00:02+00:00', NULL), "
    "(3, 1, 3, 3, 2, '', '2026-01-01 00:00:03+00:00', NULL, '2026-01-01 00:00:04+00:00')",
]


def matches(url: str, word: str) -> list[int]:
    """Message ids whose index entry holds a word starting with `word`, straight from the index."""
    if url.startswith("sqlite"):
        query = f"SELECT rowid FROM messages_fts WHERE messages_fts MATCH '\"{word}\"*' ORDER BY rowid"
    else:
        query = f"SELECT id FROM messages WHERE search_vector @@ to_tsquery('simple', '{word}:*') ORDER BY id"
    return [int(row[0]) for row in run(url, query)[0]]  # type: ignore[call-overload]


def test_the_upgrade_indexes_stored_messages_and_keeps_rooms(empty_url: str) -> None:
    upgrade(empty_url, PREVIOUS)
    run(empty_url, *ROWS)
    upgrade(empty_url, REVISION.revision)
    assert matches(empty_url, "river") == [1, 2]
    assert matches(empty_url, "EDITED") == [2]
    assert run(empty_url, "SELECT id, kind, name, direct_low_id FROM rooms")[0] == [
        (1, "room", "General", None)
    ]
    assert run(empty_url, "SELECT count(*) FROM memberships")[0] == [(2,)]
    # The index follows later writes: an edit, a delete, a new message.
    run(
        empty_url,
        "UPDATE messages SET body = 'a lake now' WHERE id = 2",
        "DELETE FROM messages WHERE id = 1",
        "INSERT INTO messages (id, room_id, seq, rev, author_id, body, created_at) "
        "VALUES (4, 1, 4, 4, 1, 'river again', '2026-01-02 00:00:00+00:00')",
    )
    assert matches(empty_url, "river") == [4]
    assert matches(empty_url, "lake") == [2]
    # Normal room names stay unique ignoring case.
    with pytest.raises(IntegrityError):
        run(
            empty_url,
            "INSERT INTO rooms (name, name_key, description, is_private, created_at, last_seq) "
            "VALUES ('GENERAL', 'general', '', false, '2026-01-01 00:00:00+00:00', 0)",
        )


def test_the_downgrade_removes_direct_rooms_and_the_index(empty_url: str) -> None:
    upgrade(empty_url, REVISION.revision)
    run(empty_url, *ROWS)
    run(
        empty_url,
        "INSERT INTO rooms (id, kind, name, name_key, description, is_private, created_at, last_seq, "
        "direct_low_id, direct_high_id) "
        "VALUES (2, 'direct', 'Ada, bob', 'ada, bob', '', true, '2026-01-01 00:00:00+00:00', 1, 1, 2)",
        "INSERT INTO memberships (room_id, user_id, role, joined_at) "
        "VALUES (2, 1, 'member', '2026-01-01 00:00:00+00:00'), (2, 2, 'member', '2026-01-01 00:00:00+00:00')",
        "INSERT INTO messages (id, room_id, seq, rev, author_id, body, created_at) "
        "VALUES (10, 2, 1, 1, 1, 'private words', '2026-01-01 00:00:00+00:00')",
    )
    command.downgrade(alembic_config(empty_url), PREVIOUS)
    assert run(empty_url, "SELECT id, name FROM rooms")[0] == [(1, "General")]
    assert run(empty_url, "SELECT count(*) FROM memberships")[0] == [(2,)]
    assert run(empty_url, "SELECT id FROM messages ORDER BY id")[0] == [(1,), (2,), (3,)]
    upgrade(empty_url, REVISION.revision)
    assert matches(empty_url, "river") == [1, 2]
    upgrade(empty_url)  # to the head, where the models are
    command.check(alembic_config(empty_url))
