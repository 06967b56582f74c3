"""Alembic, driven from code: the CLI (`example-service db ...`) and the tests call these.

The scripts live in `migrations/` at the repository root (or beside the package in a wheel).
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

_PACKAGE = Path(__file__).resolve().parent.parent


def script_location() -> Path:
    for candidate in (_PACKAGE / "migrations", _PACKAGE.parent.parent / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("the migrations/ directory was not found")


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    """A config for `database_url` (None: DATABASE_URL through Settings), or an open connection."""
    # stdout looked up now: Alembic's default is bound when alembic is imported.
    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(script_location()))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if database_url is not None:
        config.attributes["database_url"] = database_url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(config: Config, revision: str = "head") -> None:
    command.upgrade(config, revision)


def downgrade(config: Config, revision: str = "-1") -> None:
    command.downgrade(config, revision)
