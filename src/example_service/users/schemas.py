"""What the users API accepts and returns. No schema here has a hash or an internal counter."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from example_service.auth.passwords import MAX_LENGTH, MIN_LENGTH
from example_service.auth.roles import Role
from example_service.schemas import RequestModel

Password = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class UserCreate(RequestModel):
    # Unknown fields are refused: `role` or `is_active` in a registration is an error, not
    # silently dropped.

    email: EmailStr
    full_name: FullName = ""
    password: Password


class UserUpdate(RequestModel):
    full_name: FullName | None = None
    password: Password | None = None
    current_password: Annotated[str, Field(max_length=MAX_LENGTH)] | None = Field(
        default=None, description="Required when changing your own password."
    )
    role: Role | None = Field(default=None, description="Administrators only.")
    is_active: bool | None = Field(default=None, description="Administrators only.")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime
