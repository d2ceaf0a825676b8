"""Mentions: which members a message body names with `@username`.

A mention is `@` followed by a run of username characters, where the `@` starts the body
or follows a character that cannot be in a username (so `a@bob` is no mention, `ü@bob`
is). The run, ignoring case, must name a member of the room; when it does not and ends in
`.` or `-`, those are dropped and it is tried again (`thanks @bob.` mentions bob). Parsed
once, when a message is stored or edited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

USERNAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
MAX_USERNAME = 32


def candidates(body: str) -> list[str]:
    """Each run that could be a mention, as written, in order; with its trimmed form when
    that differs. Cheap for the usual body: most have no `@` at all."""
    if "@" not in body:
        return []
    found: list[str] = []
    start = body.find("@")
    while start != -1:
        if start == 0 or body[start - 1] not in USERNAME_CHARACTERS:
            end = start + 1
            while end < len(body) and body[end] in USERNAME_CHARACTERS:
                end += 1
            run = body[start + 1 : end]
            if run:
                found.append(run)
        start = body.find("@", start + 1)
    return found


def lookup_keys(runs: Iterable[str]) -> set[str]:
    """The lower-cased usernames a set of runs could name: what to look up among members."""
    keys: set[str] = set()
    for run in runs:
        for name in (run, run.rstrip(".-")):
            if 3 <= len(name) <= MAX_USERNAME:
                keys.add(name.lower())
    return keys


def resolve(runs: Iterable[str], members: Mapping[str, int]) -> list[int]:
    """The ids of the members the runs name (`members`: lower-cased username -> id), each
    once, in the order they first appear."""
    mentioned: list[int] = []
    for run in runs:
        user_id = members.get(run.lower())
        if user_id is None and run.endswith((".", "-")):
            user_id = members.get(run.rstrip(".-").lower())
        if user_id is not None and user_id not in mentioned:
            mentioned.append(user_id)
    return mentioned
