from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from example_service.auth.roles import Role
from example_service.db.base import Base, Timestamps, UUIDPrimaryKey


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"

    # Stored lowercased (the service normalises), so a plain unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    hashed_password: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32), default=Role.USER.value)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change, role change and deactivation; tokens carry the value they were
    # issued under and are refused once it moved on.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
