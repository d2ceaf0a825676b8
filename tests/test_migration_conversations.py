"""The migrations of revs, read state and mentions, and replies and reactions, on a database
filled by the revision before them: existing messages get revs in seq order, every room its
last_rev, every membership a cursor at its room's newest message; and back down again."""

from __future__ import annotations

from alembic import command

from api.migrate import alembic_config, upgrade
from tests.migrating import empty_url, migration, run

__all__ = ["empty_url"]  # the fixture, for pytest

REVS = migration("_room_revs.py")
READ_STATE = migration("_read_state_and_mentions.py")
REPLIES = migration("_replies_and_reactions.py")

# The schema before revs: two rooms, one of them edited and deleted into, one empty.
ROWS = [
    "INSERT INTO users "
    "(id, username, username_key, display_name, password_hash, is_admin, is_active, created_at) "
    "VALUES (1, 'Ada', 'ada', 'Ada', '!', false, true, '2026-01-01 00:00:00+00:00'), "
    "(2, 'bob', 'bob', 'Bob', '!', false, true, '2026-01-01 00:00:00+00:00')",
    "INSERT INTO rooms (id, name, name_key, description, is_private, created_at, last_seq) VALUES "
    "(1, 'General', 'general', '', false, '2026-01-01 00:00:00+00:00', 3), "
    "(2, 'Quiet', 'quiet', '', true, '2026-01-01 00:00:00+00:00', 0)",
    "INSERT INTO memberships (room_id, user_id, role, joined_at) VALUES "
    "(1, 1, 'owner', '2026-01-01 00:00:00+00:00'), (1, 2, 'member', '2026-01-01 00:00:00+00:00'), "
    "(2, 2, 'owner', '2026-01-01 00:00:00+00:00')",
    "INSERT INTO messages (id, room_id, seq, author_id, body, created_at, edited_at, deleted_at) VALUES "
    "(1, 1, 1, 1, 'one @bob', '2026-01-01 00:00:00+00:00', NULL, NULL), "
    "(2, 1, 2, 2, 'two, edited', '2026-01-01 00:00:01+00:00', '2026-01-01 00:00:02+00:00', NULL), "
    "(3, 1, 3, 2, '', '2026-01-01 00:00:03+00:00', NULL, '2026-01-01 00:00:04+00:00')",
]


def test_existing_rooms_read_as_if_each_message_were_one_change(empty_url: str) -> None:
    upgrade(empty_url, str(REVS.down_revision))
    run(empty_url, *ROWS)
    upgrade(empty_url, REPLIES.revision)
    messages, rooms, cursors, mentions = run(
        empty_url,
        "SELECT id, seq, rev, mentions, reply_to, reactions FROM messages ORDER BY id",
        "SELECT id, last_seq, last_rev FROM rooms ORDER BY id",
        "SELECT room_id, user_id, read_seq FROM memberships ORDER BY room_id, user_id",
        "SELECT count(*) FROM message_mentions",
    )
    # Revs in seq order; mentions never parsed for old messages (nobody is guessed at).
    assert messages == [(1, 1, 1, None, None, None), (2, 2, 2, None, None, None), (3, 3, 3, None, None, None)]
    assert rooms == [(1, 3, 3), (2, 0, 0)]
    # Everything that was there counts as read: no sudden backlog of old messages.
    assert cursors == [(1, 1, 3), (1, 2, 3), (2, 2, 0)]
    assert mentions == [(0,)]
    # The new numbers go on from there.
    run(
        empty_url,
        "INSERT INTO messages (id, room_id, seq, rev, author_id, body, created_at) "
        "VALUES (4, 1, 4, 4, 1, 'four', '2026-01-02 00:00:00+00:00')",
    )


def test_the_migrations_go_back_down_keeping_the_messages(empty_url: str) -> None:
    upgrade(empty_url, str(REVS.down_revision))
    run(empty_url, *ROWS)
    upgrade(empty_url, REPLIES.revision)
    command.downgrade(alembic_config(empty_url), str(REVS.down_revision))
    (messages,) = run(empty_url, "SELECT id, seq, body FROM messages ORDER BY id")
    assert messages == [(1, 1, "one @bob"), (2, 2, "two, edited"), (3, 3, "")]
    upgrade(empty_url)  # and up again, to the head, where the models are
    command.check(alembic_config(empty_url))
    (revs,) = run(empty_url, "SELECT rev FROM messages ORDER BY id")
    assert revs == [(1,), (2,), (3,)]
