"""The periodic purge: sessions expired or revoked more than TASKS_PURGE_AFTER_HOURS ago go,
with idempotency records as old; live ones and recent ones stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from example_service.auth.models import AuthSession
from example_service.tasks.builtin import PURGE_SESSIONS
from example_service.tasks.idempotency import TaskRun
from tests.identity import Api
from tests.tasks.test_inprocess import send


async def test_the_purge_deletes_dead_sessions_and_old_records_only(tasks_api: Api) -> None:
    admin = await tasks_api.account("admin@example.com", admin=True)
    user_id = uuid.UUID(admin.id)
    now = datetime.now(UTC)
    long_ago, lately = now - timedelta(hours=25), now - timedelta(hours=1)
    sessions = {
        "expired long ago": (long_ago, None),
        "revoked long ago": (now + timedelta(days=3), long_ago),
        "expired lately": (lately, None),
        "revoked lately": (now + timedelta(days=3), lately),
        "live": (now + timedelta(days=3), None),
    }
    ids = {}
    factory = tasks_api.app.state.session_factory
    async with factory() as session, session.begin():
        for name, (expires, revoked) in sessions.items():
            row = AuthSession(user_id=user_id, refresh_jti=name, expires_at=expires)
            row.revoked_at = revoked
            session.add(row)
            await session.flush()
            ids[name] = row.id
        session.add(TaskRun(key="old", task="t", finished_at=long_ago))
        session.add(TaskRun(key="new", task="t", finished_at=lately))

    await send(tasks_api, admin.auth, PURGE_SESSIONS, {})

    async with factory() as session:
        left = set((await session.scalars(select(AuthSession.refresh_jti))).all())
        keys = set((await session.scalars(select(TaskRun.key))).all())
    assert "expired long ago" not in left
    assert "revoked long ago" not in left
    assert {"expired lately", "revoked lately", "live"} <= left
    assert "new" in keys
    assert "old" not in keys
    # The admin's own login session is live: still there, still usable.
    me = await tasks_api.client.get("/api/v1/users/me", headers=admin.auth)
    assert me.status_code == 200
