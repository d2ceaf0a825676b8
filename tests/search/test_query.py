"""What `q` means: words, accents, case and hostile syntax, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.factories import send
from tests.rooms.helpers import Cast
from tests.search.helpers import found, search

# (body, q, found): each row is checked on both databases (`--db`), so they agree on it.
WORDS = [
    # Words are runs of letters and digits; anything else separates them.
    ("mail user@example.com now", "example", True),
    ("mail user@example.com now", "com user", True),
    ("see https://hubbub.example/docs/search?q=1", "docs search", True),
    ("version v1.2.3 is out", "2", True),
    ("pi is 3.14", "14", True),
    ("foo-bar_baz", "baz bar", True),
    ("foo-bar", "foobar", False),
    ("don't", "t", True),
    ("don't", "dont", False),
    ("tab\tnew\nline", "line", True),
    ("room 101", "10", True),
    ("x² + y²", "x y", True),
    ("½ cup", "cup", True),
    ("🤔hmm", "hmm", True),
    ("hmm🤔", "hmm", True),
    ("👩‍👩‍👧family👍🏽", "family", True),
    ("«quoted» — dash…", "quoted dash", True),
    ("句号。逗号，", "逗号", True),
    # A word is found from its start only.
    ("unbelievable", "believ", False),
    ("中文字符", "中文", True),
    ("中文字符", "字符", False),
    # Case is ignored, in any script.
    ("Über alles", "über", True),
    ("über alles", "ÜBER", True),
    ("ΣΟΦΟΣ", "σοφος", True),
    ("σοφος", "ΣΟΦΟΣ", True),
    ("Привет МИР", "мир привет", True),
    # Accents count: café is not cafe.
    ("café au lait", "café", True),
    ("CAFÉ AU LAIT", "café", True),
    ("café au lait", "cafe", False),
    ("cafe noir", "café", False),
    ("naïve", "NAÏVE", True),
    ("naïve", "naive", False),
    # Decomposed accents (e + U+0301) stay within their word.
    ("cafe\u0301 noir", "cafe\u0301", True),
    ("cafe\u0301 noir", "noir", True),
    # Other scripts and digits.
    ("नमस्ते दुनिया", "नमस्ते", True),
    ("ภาษาไทย", "ภาษา", True),
    ("١٢٣ arabic digits", "١٢", True),
    ("𝕳𝖚𝖇𝖇𝖚𝖇", "𝕳𝖚𝖇", True),
]


@pytest.mark.parametrize(("body", "q", "expected"), WORDS)
async def test_both_databases_find_the_same_words(cast: Cast, body: str, q: str, expected: bool) -> None:
    room = await cast.room()
    await send(cast.client, cast.owner, room["id"], body)
    assert await found(cast.client, cast.member, q) == ([body] if expected else [])


async def test_operators_and_syntax_in_q_are_only_words_and_separators(cast: Cast) -> None:
    room = await cast.room()
    for body in ("alpha beta", "NEAR the end", "or else", "gamma", "not now"):
        await send(cast.client, cast.owner, room["id"], body)
    cases = {
        "NEAR": ["NEAR the end"],
        "near(the end)": ["NEAR the end"],
        "NEAR(alpha beta, 2)": [],  # `near` and `2` are words too
        '"alpha" OR "gamma"': [],  # three words, no message holds them all
        "alpha OR": [],
        "or": ["or else"],
        "NOT now": ["not now"],
        "-alpha": ["alpha beta"],  # no exclusion
        "alpha -beta": ["alpha beta"],
        "^alpha": ["alpha beta"],
        "alpha*": ["alpha beta"],
        "*alpha": ["alpha beta"],
        "al*": ["alpha beta"],
        "body:alpha": [],  # `body` is a word, not a column
        "{body}: gamma": [],
        "alpha:*": ["alpha beta"],
        "alpha:A": ["alpha beta"],  # `a` starts `alpha`
        "alpha & !beta": ["alpha beta"],
        "alpha | gamma": [],
        "alpha <-> beta": ["alpha beta"],
        "(alpha": ["alpha beta"],
        "beta)": ["alpha beta"],
        "'alpha'": ["alpha beta"],
        '"alpha': ["alpha beta"],
        'alpha"': ["alpha beta"],
        "al\\pha": [],
        "%alpha%": ["alpha beta"],
        "_alpha_": ["alpha beta"],
        "alpha; DROP TABLE messages; --": [],
        "gamma' OR '1'='1": [],
        "\x00gamma\x00": ["gamma"],
    }
    for q, expected in cases.items():
        assert await found(cast.client, cast.member, q) == expected, q


@pytest.mark.parametrize(
    "raw_q",
    [
        "%ED%A0%80alpha",  # a lone surrogate, percent-encoded
        "alpha%ED%B0%80",
        "alpha%FF%FE",  # not UTF-8
        "alpha%00",
        "%C0%AFalpha",  # an overlong encoding of /
    ],
)
async def test_undecodable_bytes_in_q_only_separate_words(cast: Cast, raw_q: str) -> None:
    room = await cast.room()
    await send(cast.client, cast.owner, room["id"], "alpha beta")
    response = await cast.client.get(f"/api/search?q={raw_q}", headers=cast.member.headers)
    assert response.status_code == 200, response.text
    assert [m["body"] for m in response.json()["messages"]] == ["alpha beta"]


@pytest.mark.parametrize(
    "q",
    [
        "",
        " ",
        "\t\n",
        "!!!",
        "." * 200,
        "😀" * 50,
        '"*-^:()',
        "\u0301\u0301",  # accents alone
        "%ED%A0%80",
        "%00",
        "a" * 201,
        "é" * 201,
    ],
)
async def test_q_needs_1_to_200_code_points_with_a_letter_or_digit(cast: Cast, q: str) -> None:
    if "%" in q:
        response = await cast.client.get(f"/api/search?q={q}", headers=cast.member.headers)
    else:
        response = await search(cast.client, cast.member, q)
    assert response.status_code == 422, q
    assert response.json()["detail"][0]["loc"] == ["query", "q"]


async def test_a_missing_q_is_422(cast: Cast) -> None:
    response = await cast.call("member", "GET", "/api/search")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]


async def test_long_and_many_word_queries_are_answered(cast: Cast) -> None:
    room = await cast.room()
    await send(cast.client, cast.owner, room["id"], "a b c d e f g h i j")
    await send(cast.client, cast.owner, room["id"], "a" * 200)
    assert await found(cast.client, cast.member, "a" * 200) == ["a" * 200]
    assert await found(cast.client, cast.member, "é" * 200) == []
    assert await found(cast.client, cast.member, "𝕳" * 200) == []  # 200 code points, 800 bytes
    assert await found(cast.client, cast.member, " ".join("abcdefghij" * 10)) == ["a b c d e f g h i j"]
    many = " ".join(a + b for a in "bcdefghijklm" for b in "aeiou")[:200]  # 50 distinct words
    assert await found(cast.client, cast.member, many) == []
    assert await found(cast.client, cast.member, "." * 199 + "a") == ["a" * 200, "a b c d e f g h i j"]
