"""api.search.words: the words of a query, and the smaller set a search needs."""

from __future__ import annotations

import itertools
import re

import pytest

from api.search.index import postgres_word_pattern
from api.search.words import has_letter_or_digit, query_words, word_ranges, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello, world!", ["hello", "world"]),
        ("user@example.com", ["user", "example", "com"]),
        ("v1.2.3", ["v1", "2", "3"]),
        ("snake_case-and-kebab", ["snake", "case", "and", "kebab"]),
        ("🤔hmm👍🏽ok", ["hmm", "ok"]),
        ("cafe\u0301 café", ["cafe\u0301", "café"]),
        ("x² ½", ["x"]),
        ("١٢٣", ["١٢٣"]),
        ("\x00a\x00b\x00", ["a", "b"]),
        ("", []),
        ("...", []),
    ],
)
def test_words_are_runs_of_letters_and_digits(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_a_query_drops_repeats_and_words_that_start_another() -> None:
    assert sorted(query_words("rain Rainbow RAIN sun sunny s")) == ["Rainbow", "sunny"]
    assert query_words("NEAR near Near") in (["NEAR"], ["near"], ["Near"])
    assert sorted(query_words("ab ac ad")) == ["ab", "ac", "ad"]
    # Combining accents alone are no word.
    assert query_words("\u0301 a") == ["a"]


def test_a_word_whose_case_folds_to_another_length_is_compared_as_written() -> None:
    # "İ".lower() is two code points: no guess about how a database folds it.
    assert sorted(query_words("İs is")) == ["is", "İs"]


def test_letters_and_digits_make_a_query_valid_accents_alone_do_not() -> None:
    assert has_letter_or_digit("..a..")
    assert has_letter_or_digit("٣")
    assert not has_letter_or_digit("\u0301")
    assert not has_letter_or_digit("😀 ² ½ — …")


def test_the_postgresql_pattern_replaces_exactly_the_non_word_characters() -> None:
    # PostgreSQL's index function runs this pattern; Python's `re` reads the same brackets.
    pattern = re.compile(postgres_word_pattern())
    text = "user@example.com — 🤔hmm, x² café cafe\u0301 Σοφός ١٢٣ 中文"
    assert pattern.sub(" ", text).split() == words(text)
    ranges = list(word_ranges())
    assert all(first <= last < following for (first, last), (following, _) in itertools.pairwise(ranges))
    assert (ord("0"), ord("9")) in ranges
