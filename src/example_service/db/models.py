"""Every model module, imported so that `Base.metadata` knows all tables (Alembic, tests)."""

from __future__ import annotations

from sqlalchemy import MetaData

# Imported for their side effect: each model registers its table on `Base.metadata`.
import example_service.api_keys.models
import example_service.auth.models
import example_service.tasks.idempotency
import example_service.users.models  # noqa: F401
from example_service.db.base import Base


def load_models() -> MetaData:
    return Base.metadata
