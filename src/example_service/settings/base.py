"""What every settings section shares: how it reads the environment, list values, defaults."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_JWT_SECRET = "change-me-this-is-not-a-secret"  # noqa: S105 - a placeholder refused in production
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/app.db"


class Environment(StrEnum):
    LOCAL = "local"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


def _split_csv(value: Any) -> Any:
    """Accept `a,b` as well as a JSON list (or object) for list-valued variables."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


def _section(prefix: str) -> SettingsConfigDict:
    # Empty values (`REDIS_URL=`) mean "the default", as .env.example writes them.
    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=".env",
        extra="ignore",
        validate_default=True,
        env_ignore_empty=True,
    )


class _Section(BaseSettings):
    @model_validator(mode="before")
    @classmethod
    def _csv_lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                if NoDecode in field.metadata and name in data:
                    data[name] = _split_csv(data[name])
        return data
