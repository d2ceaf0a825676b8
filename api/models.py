"""Every table, imported in one place so Alembic and tests see the whole schema."""

from api.auth.models import LoginFailure, RefreshToken, User
from api.db import Base
from api.messages.models import Message, MessageMention
from api.rooms.models import Membership, Role, Room, RoomBan

__all__ = [
    "Base",
    "LoginFailure",
    "Membership",
    "Message",
    "MessageMention",
    "RefreshToken",
    "Role",
    "Room",
    "RoomBan",
    "User",
]
