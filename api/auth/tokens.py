"""JSON Web Tokens: HS256, with `sub`, `exp`, `iat`, `jti`, a `type` and, for a login's
tokens, `sid` (its session).

`iat` and `exp` carry microseconds (RFC 7519's NumericDate may be fractional; python-jose
takes it): a logout-all refuses tokens issued before it, and one issued in the same second
right after it must still work."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from jose import ExpiredSignatureError, JWTError, jwt

from api.auth.exceptions import TokenExpired, TokenInvalid
from api.ids import parse_id

ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ("sub", "exp", "iat", "jti", "type")


class TokenType(StrEnum):
    access = "access"
    refresh = "refresh"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    type: TokenType
    jti: str
    issued_at: datetime
    expires_at: datetime
    session_id: int | None = None

    @property
    def jti_hash(self) -> str:
        return hashlib.sha256(self.jti.encode()).hexdigest()


def issue_token(
    *, key: str, user_id: int, type: TokenType, lifetime: timedelta, session_id: int | None = None
) -> tuple[str, TokenClaims]:
    issued = _numeric_date(datetime.now(UTC).timestamp())
    expires = _numeric_date(issued + lifetime.total_seconds())
    claims = TokenClaims(
        user_id=user_id,
        type=type,
        jti=uuid.uuid4().hex,
        # Read back from the numbers the token carries, so the claims match it exactly.
        issued_at=datetime.fromtimestamp(issued, UTC),
        expires_at=datetime.fromtimestamp(expires, UTC),
        session_id=session_id,
    )
    payload: dict[str, object] = {
        "sub": str(user_id),
        "type": type.value,
        "jti": claims.jti,
        "iat": issued,
        "exp": expires,
    }
    if session_id is not None:
        payload["sid"] = session_id
    return jwt.encode(payload, key, algorithm=ALGORITHM), claims


def _numeric_date(timestamp: float) -> float:
    """Seconds since the epoch, to the microsecond the database keeps."""
    return round(timestamp, 6)


def decode_token(*, key: str, token: str, expected: TokenType) -> TokenClaims:
    """The claims of a token we signed, of the expected type and not expired.

    Only HS256 is accepted, so `alg: none` and tokens signed with another
    algorithm or key are refused; every claim must be present.
    """
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={f"require_{claim}": True for claim in ("sub", "exp", "iat", "jti")},
        )
    except ExpiredSignatureError as exc:
        raise TokenExpired from exc
    except (JWTError, ValueError, TypeError) as exc:
        raise TokenInvalid from exc
    if any(claim not in payload for claim in _REQUIRED_CLAIMS) or payload["type"] != expected:
        raise TokenInvalid
    user_id = parse_id(payload["sub"]) if isinstance(payload["sub"], str) else None
    if user_id is None:
        raise TokenInvalid
    session_id = payload.get("sid")
    if session_id is not None and (type(session_id) is not int or parse_id(session_id) is None):
        raise TokenInvalid
    try:
        return TokenClaims(
            user_id=user_id,
            type=expected,
            jti=str(payload["jti"]),
            issued_at=datetime.fromtimestamp(payload["iat"], UTC),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            session_id=session_id,
        )
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise TokenInvalid from exc
