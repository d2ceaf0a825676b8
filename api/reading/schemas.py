from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

from api.ids import MAX_SEQ
from api.messages.schemas import MessagePublic
from api.rooms.models import Role
from api.rooms.schemas import RoomPublic


class ReadRequest(BaseModel):
    seq: StrictInt = Field(ge=0, le=MAX_SEQ, description="The highest seq read; past the newest stops there")


class ReadState(BaseModel):
    room_id: int
    read_seq: int = Field(description="The highest seq the member has read")
    unread: int = Field(description="Messages after it, not deleted and not the member's own")
    mentions: int = Field(description="Of those, the ones that mention the member")


class MyRoom(BaseModel):
    room: RoomPublic
    role: Role
    read_seq: int
    unread: int
    mentions: int


class MentionsPage(BaseModel):
    messages: list[MessagePublic]
    has_more: bool = Field(description="Older mentions exist beyond this page")
