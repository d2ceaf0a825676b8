"""Validation of user-supplied text, shared by every domain and the WebSocket protocol."""

from __future__ import annotations

import unicodedata
from typing import Final

from pydantic import AfterValidator

ALLOWED_CONTROL: Final = frozenset("\n\t")
# For patterns: a string with no C0 or C1 control character (Unicode category Cc).
NO_CONTROL_CHARACTERS: Final = r"^[^\x00-\x1f\x7f-\x9f]*$"


class TextError(ValueError):
    """A text was refused; `code` is the WebSocket error code for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def has_control_characters(text: str, allowed: frozenset[str] = ALLOWED_CONTROL) -> bool:
    # Fast path: almost every text is printable, and str.isprintable() runs in C.
    if text.isprintable():
        return False
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def is_encodable(text: str) -> bool:
    """JSON can spell lone surrogates (`"\\ud800"`) and Python decodes them, but no database
    can store them: they are refused as invalid input, not failed on the way to the database."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _encodable(value: str) -> str:
    if not is_encodable(value):
        raise ValueError("must be valid Unicode (no lone surrogates)")
    return value


encodable = AfterValidator(_encodable)


def normalize_body(body: str, *, max_length: int = 4000) -> str:
    """A message body as stored: stripped, 1–max_length code points, no control characters
    other than newline and tab. Everything else is kept exactly as sent."""
    stripped = body.strip()
    if not stripped:
        raise TextError("empty_body", "body must not be empty")
    if len(stripped) > max_length:
        raise TextError("body_too_long", f"body must be at most {max_length} characters")
    if has_control_characters(stripped):
        raise TextError("invalid_body", "body must not contain control characters")
    if not is_encodable(stripped):
        raise TextError("invalid_body", "body must be valid Unicode (no lone surrogates)")
    return stripped


def _clean_line(value: str) -> str:
    """A one-line name: stripped, not empty, no control characters at all."""
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be empty")
    if has_control_characters(stripped, allowed=frozenset()):
        raise ValueError("must not contain control characters")
    return _encodable(stripped)


def _clean_text(value: str) -> str:
    """A free text such as a description: stripped, may be empty, lines and tabs allowed."""
    stripped = value.strip()
    if has_control_characters(stripped):
        raise ValueError("must not contain control characters other than newline and tab")
    return _encodable(stripped)


clean_line = AfterValidator(_clean_line)
clean_text = AfterValidator(_clean_text)
