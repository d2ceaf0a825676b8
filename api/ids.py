"""Identifiers from the outside world: a malformed or out-of-range id is an unknown one."""

from __future__ import annotations

# Users and rooms use 32-bit keys on PostgreSQL; a larger number cannot name one.
MAX_ID = 2**31 - 1
MAX_SEQ = 2**63 - 1


def parse_id(raw: str | int, *, maximum: int = MAX_ID) -> int | None:
    """The positive integer `raw` spells, or None when it names nothing."""
    if isinstance(raw, int):
        value = raw
    elif raw.isascii() and raw.isdigit() and len(raw) <= 19:
        value = int(raw)
    else:
        return None
    return value if 1 <= value <= maximum else None
