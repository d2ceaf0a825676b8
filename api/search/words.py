"""What a word is, for search: one definition for the query and for both databases' indexes.

SPEC: words are runs of Unicode letters and digits; every other character only separates
words. Here a letter is any code point of category L*, a digit one of category Nd, by the
Unicode tables of this Python. SQLite's `unicode61` tokenizer also keeps a few combining
accents (U+0300 to U+0331, `sqlite3Fts5UnicodeIsdiacritic`) inside a token whatever it is
told, so they count as word characters everywhere, or the two databases would disagree on
decomposed text ("cafe" + U+0301). They do not make a query valid on their own.

Accents are significant (`café` is not `cafe`) on both databases: PostgreSQL's `simple`
configuration keeps them, and removing them there would need the `unaccent` extension, whose
rules differ from FTS5's (ligatures, Greek), so the databases would disagree.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

# The bits of SQLite's sqlite3Fts5UnicodeIsdiacritic() (fts5_unicode2.c), code points 768-817.
_DIACRITIC_MASKS = ((768, 0x08029FDF), (800, 0x000361F8))
SQLITE_DIACRITICS = frozenset(
    chr(base + bit) for base, mask in _DIACRITIC_MASKS for bit in range(32) if mask >> bit & 1
)

# Where FTS5's case folding goes further than PostgreSQL's lower() (micro sign, long s, final
# sigma, the Greek letter symbols, prosgegrammeni): PostgreSQL's index and queries map these
# first, so `ΣΟΦΟΣ` finds `σοφος` on both databases, as FTS5 folds it to `σοφοσ`.
POSTGRES_FOLD_FROM = "\u00b5\u017f\u03c2\u03d0\u03d1\u03d5\u03d6\u03f0\u03f1\u03f5\u1e9b\u1fbe"
POSTGRES_FOLD_TO = "\u03bc\u0073\u03c3\u03b2\u03b8\u03c6\u03c0\u03ba\u03c1\u03b5\u1e61\u03b9"
_FOLD = str.maketrans(POSTGRES_FOLD_FROM, POSTGRES_FOLD_TO)


def is_letter_or_digit(character: str) -> bool:
    category = unicodedata.category(character)
    return category[0] == "L" or category == "Nd"


def is_word_character(character: str) -> bool:
    return is_letter_or_digit(character) or character in SQLITE_DIACRITICS


def words(text: str) -> list[str]:
    """The words of `text`, in order, repeats included."""
    found: list[str] = []
    current: list[str] = []
    for character in text:
        if is_word_character(character):
            current.append(character)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


def has_letter_or_digit(text: str) -> bool:
    return any(is_letter_or_digit(character) for character in text)


def query_words(text: str) -> list[str]:
    """The words a search must match: those of `text`, without one that is the start of
    another (any message whose words start with `rainbow` also has one starting with `rain`).

    Besides being smaller, the set is then prefix-free, so each term of the index matches at
    most one of its prefixes: however many words a query has, the database reads each entry
    of the index at most once. Case is compared only where lower-casing keeps the length, so
    no word is dropped that the database would fold differently."""
    # A word of combining accents alone names nothing a reader would call a word.
    keyed = {_key(word): word for word in words(text) if has_letter_or_digit(word)}
    keys = sorted(keyed)
    # Sorted, a key that is the start of others comes right before the first of them.
    kept = [
        key for key, following in zip(keys, [*keys[1:], None], strict=True) if not _starts(following, key)
    ]
    return [keyed[key] for key in kept]


def _key(word: str) -> str:
    folded = word.translate(_FOLD)
    lowered = folded.lower()
    return lowered if len(lowered) == len(folded) else folded


def _starts(word: str | None, prefix: str) -> bool:
    return word is not None and word != prefix and word.startswith(prefix)


def word_ranges() -> Iterator[tuple[int, int]]:
    """The word characters as ranges of code points (first, last): for the index's DDL."""
    first: int | None = None
    for code in range(0x110000):
        is_word = not 0xD800 <= code <= 0xDFFF and is_word_character(chr(code))
        if is_word and first is None:
            first = code
        elif not is_word and first is not None:
            yield first, code - 1
            first = None
    if first is not None:
        yield first, 0x10FFFF
