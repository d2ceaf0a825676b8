"""Every table, imported in one place so Alembic and tests see the whole schema."""

from api.audit.models import AuditEntry
from api.auth.models import AddressHit, Invite, LoginFailure, LoginSession, RefreshToken, User
from api.db import Base
from api.messages.models import Message, MessageMention
from api.rooms.models import Membership, Role, Room, RoomBan
from api.tokens.models import ApiToken

__all__ = [
    "AddressHit",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Invite",
    "LoginFailure",
    "LoginSession",
    "Membership",
    "Message",
    "MessageMention",
    "RefreshToken",
    "Role",
    "Room",
    "RoomBan",
    "User",
]
