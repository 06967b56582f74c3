"""`security bans list | unban` on the shared bans (Redis), and without Redis."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from example_service.cli import build_cli
from example_service.redis.client import create_redis
from example_service.security.bans.redis import RedisBans
from example_service.settings import RedisSettings
from tests.security.conftest import POLICY
from tests.servers import RedisServer


def ban(url: str, prefix: str, client: str) -> None:
    async def strikes() -> None:
        layer = create_redis(RedisSettings(url=url))
        assert layer is not None
        try:
            bans = RedisBans(layer, POLICY, prefix)
            for _ in range(10):
                await bans.strike(client, "rate_limit")
        finally:
            await layer.aclose()

    asyncio.run(strikes())


def test_unban_takes_any_address_of_a_banned_ipv6_network(
    redis_server: RedisServer, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("SECURITY_BAN_PREFIX", prefix)
    ban(redis_server.url, prefix, "2001:db8:1:2::/64")
    ban(redis_server.url, prefix, "198.18.0.1")
    cli = build_cli()
    listed = CliRunner().invoke(cli, ["security", "bans", "list"])
    assert listed.exit_code == 0, listed.output
    rows = [line.split() for line in listed.stdout.splitlines()[1:]]
    assert [(row[0], row[2]) for row in rows] == [("198.18.0.1", "1"), ("2001:db8:1:2::/64", "1")]
    lifted = CliRunner().invoke(cli, ["security", "bans", "unban", "2001:db8:1:2::77"])
    assert lifted.stdout.strip() == "unbanned 2001:db8:1:2::/64"
    again = CliRunner().invoke(cli, ["security", "bans", "unban", "2001:db8:1:2::/64"])
    assert again.stdout.strip().startswith("2001:db8:1:2::/64 was not banned")
    bad = CliRunner().invoke(cli, ["security", "bans", "unban", "example.com"])
    assert bad.exit_code == 2
    assert "is not an IP address" in bad.stderr


def test_without_redis_the_commands_say_bans_are_in_process() -> None:
    cli = build_cli()
    listed = CliRunner().invoke(cli, ["security", "bans", "list"])
    assert listed.exit_code == 0
    assert "in-process" in listed.stdout
    lifted = CliRunner().invoke(cli, ["security", "bans", "unban", "198.18.0.1"])
    assert lifted.exit_code == 1
    assert "in-process" in lifted.stderr
