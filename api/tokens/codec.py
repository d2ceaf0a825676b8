"""The text of an API token: `hbb_`, 43 random base62 characters (256 bits), and a 6-character
base62 CRC-32 of them.

The prefix lets secret scanners find a leaked token; the fixed alphabet and length give them
a pattern with no false word boundaries (no `-` or `_` inside), and the checksum lets them,
and the server, tell a token from a look-alike without asking a database. Only the SHA-256
of a token is stored: the token has 256 random bits, so a fast hash cannot be reversed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import zlib

PREFIX = "hbb_"
ALPHABET = string.digits + string.ascii_letters
RANDOM_CHARS = 43  # 43 * log2(62) = 256.03 bits
CHECKSUM_CHARS = 6  # 62**6 > 2**32
PATTERN = re.compile(rf"{PREFIX}[0-9A-Za-z]{{{RANDOM_CHARS + CHECKSUM_CHARS}}}")


def new_token() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return PREFIX + body + _checksum(body)


def is_api_token(token: str) -> bool:
    """Whether `token` claims to be an API token (access tokens are JWTs, which never start so)."""
    return token.startswith(PREFIX)


def well_formed(token: str) -> bool:
    if PATTERN.fullmatch(token) is None:
        return False
    body = token[len(PREFIX) : -CHECKSUM_CHARS]
    return secrets.compare_digest(token[-CHECKSUM_CHARS:], _checksum(body))


def secret_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _checksum(body: str) -> str:
    value = zlib.crc32(body.encode())
    digits = []
    for _ in range(CHECKSUM_CHARS):
        value, digit = divmod(value, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))
