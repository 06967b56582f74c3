"""The Redis layer against a real server: batching, scripts, errors, breaker."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from example_service.ratelimit.redis import decision_from
from example_service.redis.client import RedisLayer, create_redis
from example_service.redis.pipeline import Script, pack_args
from example_service.resilience.breaker import BreakerState, CircuitBreaker
from example_service.resilience.errors import BackendUnavailable
from example_service.settings import RedisSettings
from tests.ratelimit.conftest import FakeClock
from tests.servers import RedisServer, free_port


@pytest.fixture
def layer(redis_layer: RedisLayer) -> RedisLayer:
    return redis_layer


async def connections_named(layer: RedisLayer, name: str) -> int:
    clients = await layer.client.client_list()
    return sum(1 for c in clients if c.get("name") == name)


def test_no_url_means_no_redis() -> None:
    assert create_redis(RedisSettings()) is None


async def test_concurrent_commands_leave_in_one_pipeline(layer: RedisLayer) -> None:
    key = f"t:{uuid.uuid4().hex}"
    before_trips = layer.pipeline.round_trips
    before = await layer.client.info("commandstats")
    results = await asyncio.gather(*(layer.execute("INCR", key) for _ in range(50)))
    assert sorted(results) == list(range(1, 51))
    assert layer.pipeline.round_trips - before_trips == 1
    after = await layer.client.info("commandstats")
    # The server saw the 50 INCRs (and no MULTI: a plain pipeline, not a transaction).
    assert after["cmdstat_incr"]["calls"] - before.get("cmdstat_incr", {"calls": 0})["calls"] == 50
    assert after.get("cmdstat_multi", {"calls": 0}) == before.get("cmdstat_multi", {"calls": 0})


async def test_sequential_commands_are_separate_round_trips(layer: RedisLayer) -> None:
    before = layer.pipeline.round_trips
    for _ in range(3):
        await layer.execute("PING")
    assert layer.pipeline.round_trips - before == 3


async def test_commands_issued_while_a_batch_is_out_form_the_next_batch(
    layer: RedisLayer,
) -> None:
    before = layer.pipeline.round_trips
    first = asyncio.ensure_future(layer.execute("PING"))
    await asyncio.sleep(0)  # the flusher has taken the first batch
    rest = [asyncio.ensure_future(layer.execute("PING")) for _ in range(20)]
    await asyncio.gather(first, *rest)
    assert layer.pipeline.round_trips - before == 2


async def test_an_error_fails_only_its_own_command(layer: RedisLayer) -> None:
    key = f"t:{uuid.uuid4().hex}"
    await layer.execute("SET", key, "text")
    results = await asyncio.gather(
        layer.execute("INCR", key), layer.execute("PING"), return_exceptions=True
    )
    assert isinstance(results[0], BackendUnavailable)
    assert results[1] in (b"PONG", True)


async def test_a_cancelled_caller_leaves_the_batch_intact(layer: RedisLayer) -> None:
    key = f"t:{uuid.uuid4().hex}"
    await layer.execute("SET", f"{key}:text", "text")
    pipeline = layer.pipeline
    gone = pipeline.execute("INCR", key)
    failed_and_gone = pipeline.execute("INCR", f"{key}:text")
    kept = pipeline.execute("INCR", key)
    gone.cancel()
    failed_and_gone.cancel()
    # The cancelled command still ran (it left with the batch); the other gets its own reply.
    assert await kept == 2
    assert gone.cancelled()
    assert failed_and_gone.cancelled()
    # The error reply counts for the breaker though nobody waits for it: the batch's success
    # resets the count, and the failed command adds one.
    assert layer.breaker._failures == 1


async def test_scripts_run_by_sha_and_reload_after_script_flush(layer: RedisLayer) -> None:
    script = Script("return tonumber(ARGV[1]) + #KEYS")
    await layer.client.script_flush()
    # NOSCRIPT on a fresh server: retried as EVAL, which also loads it.
    assert await asyncio.gather(*(layer.run_script(script, ["a", "b"], [i]) for i in range(5))) == [
        2,
        3,
        4,
        5,
        6,
    ]
    assert (await layer.client.script_exists(script.sha)) == [True]
    assert await layer.run_script(script, [], [40]) == 40


async def test_packed_calls_deliver_converted_replies(layer: RedisLayer) -> None:
    script = Script("return {tonumber(ARGV[1]), #KEYS}")
    pair = Script("return {1, 2}")

    def packed(s: Script, value: int) -> bytes:
        return s.head(1, 1) + pack_args(["k", value])

    futures = [
        layer.submit_packed(script, packed(script, i), (1, "k", i), convert=tuple) for i in range(3)
    ]
    assert await asyncio.gather(*futures) == [(0, 1), (1, 1), (2, 1)]
    # A reply the converter cannot take (the rate limiter's, given two values instead of
    # five) fails like an unusable server: the limiter then fails open, never with a 500.
    with pytest.raises(BackendUnavailable, match="unexpected reply"):
        await layer.submit_packed(pair, packed(pair, 0), (1, "k", 0), convert=decision_from)


async def test_a_down_server_is_backend_unavailable_and_opens_the_breaker() -> None:
    clock = FakeClock(0.0)
    redis = create_redis(
        RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0"),
        CircuitBreaker("redis", 3, 5.0, clock=clock),
    )
    assert redis is not None
    try:
        results = await asyncio.gather(
            *(redis.execute("PING") for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, BackendUnavailable) for r in results)
        assert redis.breaker.state is BreakerState.OPEN
        trips = redis.pipeline.round_trips
        with pytest.raises(BackendUnavailable, match="circuit open"):
            await redis.run_script(Script("return 1"), [], [])
        assert redis.pipeline.round_trips == trips  # no attempt, no timeout paid
        with pytest.raises(BackendUnavailable, match="ConnectionError"):
            await redis.ping()
    finally:
        await redis.aclose()


async def test_breaker_closes_when_the_server_answers_again(own_redis: RedisServer) -> None:
    clock = FakeClock(0.0)
    redis = RedisLayer(
        create_redis(RedisSettings(url=own_redis.url)).client,  # type: ignore[union-attr]
        CircuitBreaker("redis", failure_threshold=1, recovery_seconds=1.0, clock=clock),
    )
    try:
        assert await redis.execute("SET", "k", "1") is not None
        own_redis.stop()
        with pytest.raises(BackendUnavailable):
            await redis.execute("GET", "k")
        assert redis.breaker.state is BreakerState.OPEN
        own_redis.start()
        with pytest.raises(BackendUnavailable, match="circuit open"):
            await redis.execute("GET", "k")
        clock.advance(1.0)
        assert await redis.execute("PING") in (b"PONG", True)
        assert redis.breaker.state is BreakerState.CLOSED
    finally:
        await redis.aclose()


async def test_a_stalled_server_times_out_and_the_connection_recovers(
    layer: RedisLayer, redis_server: RedisServer
) -> None:
    stalled = create_redis(RedisSettings(url=redis_server.url, timeout_seconds=0.05))
    assert stalled is not None
    try:
        assert await stalled.execute("PING") in (b"PONG", True)
        # Another client pauses the server: our batch gets no reply within its deadline.
        await layer.client.execute_command("CLIENT", "PAUSE", "300", "ALL")
        with pytest.raises(BackendUnavailable, match="TimeoutError"):
            await stalled.execute("PING")
        # The half-read socket was dropped; once the pause ends the next batch reconnects.
        stalled.breaker.record_success()
        for _ in range(100):
            try:
                assert await stalled.execute("PING") in (b"PONG", True)
                break
            except BackendUnavailable:
                stalled.breaker.record_success()
                await asyncio.sleep(0.05)  # waiting out the server's pause, not a timing
        else:
            pytest.fail("never recovered")
    finally:
        await stalled.aclose()


async def test_a_connection_broken_by_a_server_restart_is_replaced_transparently(
    own_redis: RedisServer,
) -> None:
    redis = create_redis(RedisSettings(url=own_redis.url))
    assert redis is not None
    try:
        assert await redis.execute("PING") in (b"PONG", True)
        own_redis.stop()
        own_redis.start()
        # The pooled socket is dead; the batch is resent once on a fresh connection.
        assert await redis.execute("PING") in (b"PONG", True)
        assert redis.breaker.state is BreakerState.CLOSED
    finally:
        await redis.aclose()
