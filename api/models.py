"""Every table, imported in one place so Alembic and tests see the whole schema."""

from api.audit.models import AuditEntry
from api.auth.models import LoginFailure, RefreshToken, User
from api.db import Base
from api.messages.models import Message
from api.rooms.models import Membership, Role, Room, RoomBan

__all__ = [
    "AuditEntry",
    "Base",
    "LoginFailure",
    "Membership",
    "Message",
    "RefreshToken",
    "Role",
    "Room",
    "RoomBan",
    "User",
]
