"""The mention grammar of SPEC.md, on its own: which runs a body offers, and whom they name."""

from __future__ import annotations

import pytest

from api.messages.mentions import candidates, lookup_keys, resolve

MEMBERS = {"bob": 2, "ann-marie": 3, "dot.": 4, "carol": 5}


@pytest.mark.parametrize(
    ("body", "mentioned"),
    [
        ("@bob hi", [2]),
        ("hi @bob", [2]),
        ("thanks @bob.", [2]),
        ("thanks @bob...", [2]),
        ("@bob- and", [2]),
        ("@BOB and @Bob", [2]),  # case is ignored, and each member is listed once
        ("mail a@bob.com", []),  # `a` can be in a username: no mention
        ("ü@bob", [2]),  # `ü` cannot
        ("@@bob", [2]),
        ("(@bob)", [2]),
        ("@bob's idea", [2]),
        ("@ann-marie, @carol", [3, 5]),
        ("@dot.", [4]),  # the run itself names a member: nothing is trimmed
        ("@nobody", []),
        ("@", []),
        ("@ bob", []),
        ("@bo", []),  # too short to be anyone
        ("@" + "b" * 40, []),
        ("@carol @bob", [5, 2]),  # in the order they first appear
        ("no at sign", []),
    ],
)
def test_a_body_mentions_whom_the_spec_says(body: str, mentioned: list[int]) -> None:
    runs = candidates(body)
    found = {key: MEMBERS[key] for key in lookup_keys(runs) if key in MEMBERS}
    assert resolve(runs, found) == mentioned


def test_only_plausible_usernames_are_looked_up() -> None:
    assert lookup_keys(candidates("@ab @" + "x" * 33 + " @Bob. @ok-")) == {"bob.", "bob", "ok-"}
