"""Escalating bans on every store, at a test clock's instants; the book every request reads.
# part: redis

With Redis, the book fails open to this process when Redis cannot answer.
# end part: redis
"""

from __future__ import annotations

from example_service.redis.client import RedisLayer, create_redis
from example_service.security.bans import Ban, Bans, BanStore, Kind
from example_service.settings import RedisSettings
from tests.outbound.upstream import refused_url
from tests.security.conftest import POLICY, FakeClock

A, B = "198.18.0.1", "2001:67c::1"


async def strikes(store: BanStore, address: str, n: int, kind: Kind = "rate_limit") -> list[Ban]:
    bans = [await store.strike(address, kind) for _ in range(n)]
    return [ban for ban in bans if ban is not None]


async def test_ten_refusals_in_a_window_ban_for_a_minute_then_ten_then_sixty(
    store: BanStore, clock: FakeClock
) -> None:
    assert await strikes(store, A, 9) == []
    assert await strikes(store, A, 1) == [Ban(A, 1, 60, 60.0)]
    assert await store.active() == {A: 60.0}
    clock.advance(20)
    # While banned, strikes find the ban and do not count.
    assert await strikes(store, A, 30) == [Ban(A, 0, 0, 40.0)] * 30
    clock.advance(40)
    assert await store.active() == {}
    assert await strikes(store, A, 10) == [Ban(A, 2, 600, 600.0)]
    clock.advance(600)
    assert await strikes(store, A, 10) == [Ban(A, 3, 3600, 3600.0)]
    assert await store.level(A) == 3
    clock.advance(3600)
    # The last duration repeats.
    assert await strikes(store, A, 10) == [Ban(A, 3, 3600, 3600.0)]
    # The level is forgotten a day after the ban ends: the next ban is a minute again.
    clock.advance(3600 + 86_400)
    assert await store.level(A) == 0
    assert await strikes(store, A, 10) == [Ban(A, 1, 60, 60.0)]


async def test_strikes_count_within_one_window_and_per_kind(
    store: BanStore, clock: FakeClock
) -> None:
    assert await strikes(store, A, 9) == []
    clock.advance(60)  # the next window: the nine are gone
    assert await strikes(store, A, 9) == []
    # Auth failures count apart, against their own threshold (20).
    assert await strikes(store, A, 19, "auth_failure") == []
    assert await strikes(store, A, 1, "auth_failure") == [Ban(A, 1, 60, 60.0)]
    # Another address is another client.
    assert await strikes(store, B, 9) == []
    assert await store.active() == {A: 60.0}


async def test_unban_lifts_the_ban_and_forgets_the_level(store: BanStore, clock: FakeClock) -> None:
    await strikes(store, A, 10)
    clock.advance(61)
    await strikes(store, A, 10)
    assert await store.level(A) == 2
    await strikes(store, A, 5)
    assert await store.unban(A) is True
    assert await store.unban(A) is False
    assert await store.active() == {}
    assert await store.level(A) == 0
    assert await strikes(store, A, 9) == []  # the five before the unban were forgotten too
    assert await strikes(store, A, 1) == [Ban(A, 1, 60, 60.0)]


async def test_the_book_refuses_until_the_ban_ends(clock: FakeClock) -> None:
    bans = Bans(POLICY, clock)
    for _ in range(10):
        assert bans.retry_after(A) is None
        await bans.strike(A, "rate_limit")
    assert bans.retry_after(A) == 60
    clock.advance(59.5)
    assert bans.retry_after(A) == 1  # rounded up: a client retrying earlier is refused
    clock.advance(0.5)
    assert bans.retry_after(A) is None
    assert A not in bans.table


# part: redis
async def test_the_book_fails_open_to_this_process(clock: FakeClock) -> None:
    layer = create_redis(RedisSettings(url=refused_url().replace("http", "redis")))
    assert layer is not None
    bans = Bans(POLICY, clock)
    bans.use_redis(layer)
    try:
        for _ in range(10):
            await bans.strike(A, "rate_limit")
        await bans.sync()  # Redis unreachable: the table keeps this process's ban
    finally:
        await layer.aclose()
    assert bans.retry_after(A) == 60
    assert bans.fallbacks >= 10


async def test_the_book_reads_bans_made_by_another_process(
    redis_layer: RedisLayer, prefix: str
) -> None:
    one, two = Bans(POLICY, prefix=prefix), Bans(POLICY, prefix=prefix)
    one.use_redis(redis_layer)
    two.use_redis(redis_layer)
    for _ in range(10):
        await one.strike(A, "rate_limit")
    assert one.retry_after(A) == 60
    assert two.retry_after(A) is None
    await two.sync()
    assert two.retry_after(A) in (59, 60)
    assert await two.unban(A) is True
    await one.sync()
    assert one.retry_after(A) is None


# end part: redis


async def test_ended_bans_leave_the_table_at_the_next_sync(clock: FakeClock) -> None:
    bans = Bans(POLICY, clock)
    for address in (A, B):
        for _ in range(10):
            await bans.strike(address, "rate_limit")
    assert set(bans.table) == {A, B}
    clock.advance(60)
    await bans.sync()
    assert bans.table == {}
    assert bans.memory.bans == {}
