"""Why an access token or account was refused; `reason` is the WebSocket close reason."""

from __future__ import annotations

from typing import ClassVar


class AuthError(Exception):
    reason: ClassVar[str]
    detail: ClassVar[str]


class TokenMissing(AuthError):
    reason = "token_missing"
    detail = "Not authenticated"


class TokenInvalid(AuthError):
    reason = "token_invalid"
    detail = "Invalid token"


class TokenExpired(AuthError):
    reason = "token_expired"
    detail = "Token expired"


class AccountDisabled(AuthError):
    reason = "account_disabled"
    detail = "Account deactivated"


class TokenRevoked(AuthError):
    """Issued before a logout-all or a deactivation of its user."""

    reason = "token_revoked"
    detail = "Token revoked"
