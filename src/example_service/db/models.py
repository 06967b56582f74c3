"""Every model module, imported so that `Base.metadata` knows all tables (Alembic, tests)."""

from __future__ import annotations

from sqlalchemy import MetaData

# Imported for their side effect: each model registers its table on `Base.metadata`.
import example_service.api_keys.models
import example_service.auth.models
import example_service.users.models  # noqa: F401
from example_service.db.base import Base


def load_models() -> MetaData:
    # part: tasks
    # The task runs' idempotency records (migrations/versions/0002_task_runs.py).
    import example_service.tasks.idempotency  # noqa: F401, PLC0415

    # end part: tasks
    return Base.metadata
