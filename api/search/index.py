"""The full-text indexes the databases keep of message bodies: their DDL, in one place.

Neither is a model: SQLite's is an FTS5 virtual table (external content: it stores the index,
not a copy of the bodies) kept in step by triggers; PostgreSQL's is a stored generated
`tsvector` column with a GIN index. The migration creates them, `migrations/env.py` keeps
Alembic's autogenerate away from them (`is_index_object`), and the bench drops them to
measure what they cost the writer.

PostgreSQL: a generated column rather than an expression index, because the query planner
often filters rows with `@@` instead of reading the index (a common word: it walks the newest
messages and stops at the page's end) and rechecks the rows a bitmap scan found; with an
expression index each of those would parse the body again, with the column they read a value.
The price is the column's storage and a table rewrite when the migration adds it.

Both databases see the same words (`api.search.words`): FTS5 is told which characters its
Unicode 6.1 tables class differently from this Python's (`separators`, `tokenchars`), and
PostgreSQL's parser only ever sees words separated by spaces (`hubbub_search_text`), so it
never makes one token of an e-mail address, a URL, a file path or a version number.
"""

from __future__ import annotations

import functools
import sqlite3
import unicodedata

from api.search.words import POSTGRES_FOLD_FROM, POSTGRES_FOLD_TO, is_word_character, word_ranges

FTS_TABLE = "messages_fts"
SQLITE_TRIGGERS = ("messages_fts_insert", "messages_fts_update", "messages_fts_delete")
POSTGRES_COLUMN = "search_vector"
POSTGRES_INDEX = "ix_messages_search_vector"
POSTGRES_FUNCTION = "hubbub_search_text"

_BASE_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* Nd'"


def is_index_object(name: str | None, type_: str, parent_names: dict[str, str | None]) -> bool:
    """Whether Alembic's reflection met one of these indexes (for `include_name`)."""
    if name is None:
        return False
    if type_ == "table":
        # FTS5 keeps its index in shadow tables named after the virtual one.
        return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    if type_ == "column":
        return parent_names.get("table_name") == "messages" and name == POSTGRES_COLUMN
    return type_ == "index" and name == POSTGRES_INDEX


# --- SQLite ----------------------------------------------------------------------------------


@functools.cache  # half a second, and the same answer for the life of the process
def sqlite_tokenizer() -> str:
    """The FTS5 tokenizer spec that splits text exactly where `api.search.words` does.

    unicode61 classes characters by its own Unicode 6.1 tables, and treats every code point
    they do not know (most emoji, for one) as part of a word, so `🤔hmm` would be one token.
    The characters it gets wrong are found by asking this SQLite library itself, and named in
    `separators` and `tokenchars`. Private-use code points stay as unicode61 has them."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute(f"CREATE VIRTUAL TABLE probe USING fts5(body, tokenize = {_quote(_BASE_TOKENIZER)})")
        probe.execute("CREATE VIRTUAL TABLE probe_terms USING fts5vocab(probe, 'instance')")
        candidates = [
            code
            for code in range(0x80, 0x110000)
            if not 0xD800 <= code <= 0xDFFF and not _is_private_use(code) and not _is_unassigned(code)
        ]
        # One document per code point, the character between two letters: one token or two.
        probe.executemany(
            "INSERT INTO probe(rowid, body) VALUES (?, ?)", ((code, f"a{chr(code)}b") for code in candidates)
        )
        tokens = dict(probe.execute("SELECT doc, count(*) FROM probe_terms GROUP BY doc").fetchall())
    finally:
        probe.close()
    separators = [c for c in candidates if tokens.get(c) == 1 and not is_word_character(chr(c))]
    token_characters = [c for c in candidates if tokens.get(c) != 1 and is_word_character(chr(c))]
    spec = _BASE_TOKENIZER
    if separators:
        spec += f" separators {_quote(''.join(map(chr, separators)))}"
    if token_characters:
        spec += f" tokenchars {_quote(''.join(map(chr, token_characters)))}"
    return spec


def _is_private_use(code: int) -> bool:
    return 0xE000 <= code <= 0xF8FF or code >= 0xF0000


def _is_unassigned(code: int) -> bool:
    return unicodedata.category(chr(code)) == "Cn"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sqlite_create(tokenizer: str) -> list[str]:
    # FTS5 answers a prefix query by merging the entries of every term with that prefix before
    # it returns the first match: `w*` over a million messages took 300 ms. Prefix indexes of
    # 1 to 3 characters make the short prefixes, which match the most terms, one lookup; they
    # cost about 10 µs more per stored message (bench/README.md).
    return [
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(body, content = 'messages', content_rowid = 'id', "
        f"prefix = '1 2 3', tokenize = {_quote(tokenizer)})",
        *sqlite_create_triggers(),
        # Index what is already there.
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
    ]


def sqlite_create_triggers() -> list[str]:
    """An external-content index must be told the old body to forget it: a delete, and an
    edit (which a message's deletion is too: its body becomes empty)."""
    forget = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) VALUES ('delete', old.id, old.body);"
    learn = f"INSERT INTO {FTS_TABLE}(rowid, body) VALUES (new.id, new.body);"
    insert, update, delete = SQLITE_TRIGGERS
    return [
        f"CREATE TRIGGER {insert} AFTER INSERT ON messages BEGIN {learn} END",
        f"CREATE TRIGGER {update} AFTER UPDATE OF body ON messages BEGIN {forget} {learn} END",
        f"CREATE TRIGGER {delete} AFTER DELETE ON messages BEGIN {forget} END",
    ]


def sqlite_drop_triggers() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {trigger}" for trigger in SQLITE_TRIGGERS]


def sqlite_drop() -> list[str]:
    return [*sqlite_drop_triggers(), f"DROP TABLE IF EXISTS {FTS_TABLE}"]


# --- PostgreSQL ------------------------------------------------------------------------------


def postgres_word_pattern() -> str:
    """A regular expression matching a run of non-word characters: a bracket of the word
    characters, literal (none of them is special inside brackets), negated."""
    parts = (chr(first) if first == last else f"{chr(first)}-{chr(last)}" for first, last in word_ranges())
    return "[^" + "".join(parts) + "]+"


def postgres_create() -> list[str]:
    # The function is IMMUTABLE (a generated column needs that): translate() and
    # regexp_replace() with a fixed pattern depend on nothing but their input.
    pattern = postgres_word_pattern()
    return [
        f"CREATE FUNCTION {POSTGRES_FUNCTION}(body text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $function$ SELECT regexp_replace("
        f"translate(body, '{POSTGRES_FOLD_FROM}', '{POSTGRES_FOLD_TO}'), '{pattern}', ' ', 'g') $function$",
        f"ALTER TABLE messages ADD COLUMN {POSTGRES_COLUMN} tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('simple'::regconfig, {POSTGRES_FUNCTION}(body))) STORED",
        f"CREATE INDEX {POSTGRES_INDEX} ON messages USING gin ({POSTGRES_COLUMN})",
    ]


def postgres_drop() -> list[str]:
    return [
        f"DROP INDEX IF EXISTS {POSTGRES_INDEX}",
        f"ALTER TABLE messages DROP COLUMN IF EXISTS {POSTGRES_COLUMN}",
        f"DROP FUNCTION IF EXISTS {POSTGRES_FUNCTION}(text)",
    ]
