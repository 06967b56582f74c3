from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from example_service.auth.passwords import MAX_LENGTH
from example_service.schemas import RequestModel


class LoginRequest(RequestModel):
    """JSON login; the OAuth2 password form's `username` is accepted as the email."""

    model_config = ConfigDict(extra="ignore")  # OAuth2 forms also send grant_type, scope...

    email: Annotated[
        str, Field(min_length=1, max_length=320, validation_alias=AliasChoices("email", "username"))
    ]
    password: Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]


class RefreshRequest(RequestModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
