"""The tasks the service ships: the periodic purge of dead sessions, and the welcome e-mail.

They are the examples to copy: a task is a coroutine taking a pydantic model (its arguments,
validated when it is enqueued) and a `TaskContext`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from example_service.auth.repository import SessionRepository
from example_service.observability.logging import get_logger
from example_service.tasks.context import TaskContext
from example_service.tasks.email import Email
from example_service.tasks.idempotency import purge_records
from example_service.tasks.registry import register_task
from example_service.users.schemas import Email as EmailAddress

logger = get_logger("example_service.tasks")

PURGE_SESSIONS = "auth.purge_sessions"
WELCOME_EMAIL = "users.welcome_email"


class NoArgs(BaseModel):
    pass


@register_task(
    PURGE_SESSIONS, NoArgs, timeout=120, cron="17 * * * *", cron_setting="purge_schedule", api=True
)
async def purge_sessions(_: NoArgs, context: TaskContext) -> None:
    """Delete refresh sessions expired or revoked more than TASKS_PURGE_AFTER_HOURS ago, and
    idempotency records as old: a refresh token of a deleted session is refused like a
    revoked one, so nothing depends on them any longer."""
    keep = timedelta(hours=context.settings.tasks.purge_after_hours)
    cutoff = datetime.now(UTC) - keep
    async with context.session_factory() as session, session.begin():
        sessions = await SessionRepository(session).purge(cutoff, cutoff)
        records = await purge_records(session, keep)
    logger.info("auth.sessions_purged", sessions=sessions, task_records=records)


class WelcomeEmail(BaseModel):
    email: EmailAddress
    full_name: str = Field(max_length=200)


@register_task(WELCOME_EMAIL, WelcomeEmail, timeout=30)
async def welcome_email(args: WelcomeEmail, context: TaskContext) -> None:
    # SMTP failures (connection refused, timeouts) are OSError/TimeoutError: retried.
    name = args.full_name or args.email
    await context.emailer.send(
        Email(
            to=args.email,
            subject=f"Welcome to {context.settings.app.name}",
            body=f"Hello {name},\n\nyour account is ready.\n",
        )
    )
