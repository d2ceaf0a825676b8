"""Every table, imported in one place so Alembic and tests see the whole schema."""

from api.auth.models import Invite, LoginFailure, LoginSession, RefreshToken, SignupRecord, User
from api.db import Base
from api.messages.models import Message
from api.rooms.models import Membership, Role, Room, RoomBan

__all__ = [
    "Base",
    "Invite",
    "LoginFailure",
    "LoginSession",
    "Membership",
    "Message",
    "RefreshToken",
    "Role",
    "Room",
    "RoomBan",
    "SignupRecord",
    "User",
]
