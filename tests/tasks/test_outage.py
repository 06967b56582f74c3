"""A database outage while a task runs: retried, then dead-lettered, never acknowledged and
forgotten; requeued once the database is back, it takes effect once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import stamina

from example_service.app import create_app
from example_service.db.migrate import alembic_config, upgrade
from example_service.settings import DatabaseSettings, Settings, TasksSettings
from tests.identity import security_settings
from tests.servers import PostgresServer
from tests.tasks.conftest import running
from tests.tasks.sample_tasks import RECORD, create_effects_table, effects
from tests.tasks.test_inprocess import runtime

pytestmark = pytest.mark.postgres


@pytest.fixture
def outage_url(own_postgres: PostgresServer) -> str:
    url = own_postgres.url()
    upgrade(alembic_config(url))
    asyncio.run(create_effects_table(url))
    return url


async def test_a_database_outage_is_retried_then_dead_lettered_never_lost(
    make_settings: Callable[..., Settings], own_postgres: PostgresServer, outage_url: str
) -> None:
    settings = make_settings(
        database=DatabaseSettings(url=outage_url),
        security=security_settings(),
        tasks=TasksSettings(modules=["tests.tasks.sample_tasks"], purge_schedule=""),
    )
    async with running(create_app(settings)) as api:
        tasks = runtime(api)
        own_postgres.stop()
        # A key the sender chose is looked up in the database first: that fails, is retried,
        # and ends in a dead letter rather than an acknowledged, forgotten message.
        with stamina.set_testing(True, attempts=2):
            await tasks.enqueue(RECORD, {"marker": "k"}, idempotency_key="order-7")
            await tasks.idle()
        [letter] = await tasks.dead_letters.list()
        assert letter.attempts == 2
        assert letter.idempotency_key == "order-7"
        own_postgres.start()
        popped = await tasks.dead_letters.pop(letter.id)
        assert popped is not None
        await tasks.requeue(popped)
        await tasks.idle()
        assert await tasks.dead_letters.count() == 0
    assert await effects(outage_url, "k") == [("k", 1)]
