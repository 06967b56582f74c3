from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from example_service.db.base import Base, Timestamps, UTCDateTime, UUIDPrimaryKey


class AuthSession(UUIDPrimaryKey, Timestamps, Base):
    """A login: the refresh token currently valid for it, and whether it was revoked.

    Each refresh replaces `refresh_jti`; presenting an older one is a replay, which revokes the
    whole session (the thief and the owner are both logged out, the owner notices).
    """

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    refresh_jti: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
