"""What the users API accepts and returns. No schema here has a hash or an internal counter."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from example_service.auth.passwords import MAX_LENGTH, MIN_LENGTH
from example_service.auth.roles import Role
from example_service.schemas import RequestModel

Password = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a path, as email-validator applies it
# What the validator refuses beyond `format: email`, said in the schema so that OpenAPI promises
# no more than is accepted: a domain without a dot, and the special-use ones no mail reaches
# (RFC 6761 and 7686: .arpa, .invalid, .local, .localhost, .onion, .test), NUL anywhere.
EMAIL_PATTERN = (
    r"^[^\u0000@]+@(?!(?:[^@]*\.)?(?:arpa|invalid|local|localhost|onion|test)$)"
    r"[^\u0000@]+\.[^\u0000@]+$"
)


def _valid_email(value: str) -> str:
    # email-validator's syntax rules (what pydantic's EmailStr applies), without a DNS lookup.
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise PydanticCustomError(
            "value_error", "value is not a valid email address: {reason}", {"reason": str(exc)}
        ) from None
    return value


Email = Annotated[
    str,
    Field(
        max_length=EMAIL_MAX_LENGTH,
        json_schema_extra={"format": "email", "pattern": EMAIL_PATTERN},
    ),
    AfterValidator(_valid_email),
]


class UserCreate(RequestModel):
    # Unknown fields are refused: `role` or `is_active` in a registration is an error, not
    # silently dropped.

    email: Email
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
