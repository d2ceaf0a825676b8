"""`hubbub backup PATH`: a consistent copy of a SQLite database, taken while Hubbub runs.

SQLite's online backup API copies the database page by page inside one read
transaction, so the copy is the database as it stood at one instant, whatever the
server commits meanwhile (WAL mode lets it go on writing). The copy is written next
to PATH and renamed over it only once it is whole and checked, so an interrupted
backup never replaces a good one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy import make_url

from api.db import SQLITE_BUSY_TIMEOUT_MS


class BackupError(Exception):
    """The backup could not be made; the message says why."""


def backup_sqlite(database_url: str, destination: Path) -> int:
    """Copy the SQLite database of `database_url` to `destination`; returns its size in bytes."""
    source_path = Path(make_url(database_url).database or "")
    if not source_path.is_file():
        raise BackupError(f"there is no SQLite database at {source_path}")
    destination = destination.expanduser()
    if destination.exists() and destination.resolve() == source_path.resolve():
        raise BackupError("the backup must not overwrite the database itself")
    if destination.is_dir():
        raise BackupError(f"{destination} is a directory: give the backup's file name")
    if not destination.parent.is_dir():
        raise BackupError(f"the directory {destination.parent} does not exist")
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source_path, partial)
        os.replace(partial, destination)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the backup failed: {exc}") from exc
    return destination.stat().st_size


def _copy(source_path: Path, destination: Path) -> None:
    # Read-only: a backup never creates or changes the database it copies.
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        with contextlib.closing(sqlite3.connect(destination)) as copy:
            source.backup(copy)  # every page in one step: one consistent snapshot
            # One self-contained file, restorable by copying it back.
            copy.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = copy.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"the copy failed its check: {verdict}")
    finally:
        source.close()
