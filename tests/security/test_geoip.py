"""Geo blocking with a database the test writes: allowlist, blocklist, unknown countries,
private addresses, a trusted proxy in front; a bad file refuses startup; a replaced file is used
without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from example_service.app import create_app
from example_service.settings import SecuritySettings, Settings, SettingsError
from tests.cache.backends import eventually
from tests.conftest import LogCapture
from tests.security.geodb import write_country_db

GB, SE, CN = "81.2.69.142", "89.160.20.112", "175.16.199.1"
NO_COUNTRY = "1.128.0.1"  # in the database, without a country
NOT_LISTED = "8.8.8.8"  # not in the database at all
NETWORKS: dict[str, str | None] = {
    "81.2.69.0/24": "GB",
    "89.160.20.0/24": "SE",
    "175.16.199.0/24": "CN",
    "1.128.0.0/16": None,
    "2a02:cf40::/32": "NO",
}


@pytest.fixture
def geodb(tmp_path: Path) -> Path:
    return write_country_db(tmp_path / "countries.mmdb", NETWORKS)


@pytest.fixture
def geo_app(make_settings: Callable[..., Settings], geodb: Path) -> Callable[..., FastAPI]:
    def build(**security: Any) -> FastAPI:
        values = {"enable_geo_blocking": True, "geoip_database_path": geodb, **security}
        return create_app(make_settings(security=SecuritySettings(**values)))

    return build


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[Callable[..., Any]]:
    async with LifespanManager(app) as manager:

        async def get(address: str, path: str = "/api/v1/info", **kw: Any) -> httpx.Response:
            transport = httpx.ASGITransport(app=manager.app, client=(address, 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                return await c.get(path, **kw)

        yield get


async def statuses(get: Callable[..., Any], *addresses: str) -> list[int]:
    return [(await get(address)).status_code for address in addresses]


async def test_a_blocklist_refuses_its_countries_only(
    geo_app: Callable[..., FastAPI], logs: LogCapture
) -> None:
    async with running(geo_app(blocked_countries=["cn", "SE"])) as get:
        assert await statuses(get, GB, SE, CN, NO_COUNTRY, NOT_LISTED, "2a02:cf40::1") == [
            200,
            403,
            403,
            200,
            200,
            200,
        ]
        refused = await get(CN, "/health")  # every path: the probe path too
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "geo_blocked"
    assert body["status"] == 403
    assert "request_id" in body
    events = logs.events("security.geo_blocked")
    assert [(e["client"], e["country"]) for e in events] == [(SE, "SE"), (CN, "CN"), (CN, "CN")]


async def test_an_allowlist_serves_its_countries_only(geo_app: Callable[..., FastAPI]) -> None:
    async with running(geo_app(allowed_countries=["GB", "NO"])) as get:
        assert await statuses(get, GB, "2a02:cf40::1", SE, CN) == [200, 200, 403, 403]


@pytest.mark.parametrize(("unknown", "expected"), [("allow", 200), ("block", 403)])
async def test_unknown_countries_follow_the_setting(
    geo_app: Callable[..., FastAPI], unknown: str, expected: int
) -> None:
    app = geo_app(allowed_countries=["GB"], geo_unknown_country=unknown)
    async with running(app) as get:
        assert await statuses(get, NO_COUNTRY, NOT_LISTED, "not-an-address") == [expected] * 3
        assert await statuses(get, GB, SE) == [200, 403]


async def test_private_and_loopback_addresses_are_never_blocked(
    geo_app: Callable[..., FastAPI],
) -> None:
    app = geo_app(allowed_countries=["GB"], geo_unknown_country="block")
    async with running(app) as get:
        private = ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.16.5.5", "::1", "fd00::1"]
        assert await statuses(get, *private, "::ffff:10.0.0.1") == [200] * 7
        assert await statuses(get, NOT_LISTED) == [403]


async def test_behind_a_trusted_proxy_the_forwarded_client_decides(
    geo_app: Callable[..., FastAPI],
) -> None:
    app = geo_app(blocked_countries=["CN"], trusted_proxies=["10.0.0.0/8"])
    async with running(app) as get:
        via_proxy = await get("10.0.0.2", headers={"X-Forwarded-For": f"{GB}, {CN}"})
        assert via_proxy.status_code == 403  # the rightmost untrusted address is the client
        allowed = await get("10.0.0.2", headers={"X-Forwarded-For": f"{CN}, {GB}"})
        assert allowed.status_code == 200
        # From an untrusted peer the header is the client's own claim, and ignored.
        spoofed = await get(CN, headers={"X-Forwarded-For": GB})
        assert spoofed.status_code == 403


@pytest.mark.parametrize("content", [b"", b"not a maxmind database" * 100, None])
def test_a_missing_or_corrupt_database_refuses_startup(
    make_settings: Callable[..., Settings], tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "broken.mmdb"
    if content is not None:
        path.write_bytes(content)
    security = SecuritySettings(
        enable_geo_blocking=True, geoip_database_path=path, blocked_countries=["CN"]
    )
    with pytest.raises(SettingsError, match=f"SECURITY_GEOIP_DATABASE_PATH={path}"):
        create_app(make_settings(security=security))


def test_geo_blocking_needs_a_database_and_a_country_list(
    make_settings: Callable[..., Settings], geodb: Path
) -> None:
    with pytest.raises(SettingsError, match="SECURITY_GEOIP_DATABASE_PATH"):
        create_app(make_settings(security=SecuritySettings(enable_geo_blocking=True)))
    security = SecuritySettings(enable_geo_blocking=True, geoip_database_path=geodb)
    with pytest.raises(SettingsError, match="SECURITY_ALLOWED_COUNTRIES or SECURITY_BLOCKED"):
        create_app(make_settings(security=security))
    with pytest.raises(ValueError, match="not an ISO 3166-1"):
        SecuritySettings(blocked_countries=["China"])


def test_the_server_refuses_to_start_on_a_corrupt_database(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.mmdb"
    path.write_bytes(b"\x00" * 4096)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURITY_", "APP_"))}
    env |= {
        "APP_ENVIRONMENT": "test",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/app.db",
        "SECURITY_ENABLE_GEO_BLOCKING": "true",
        "SECURITY_GEOIP_DATABASE_PATH": str(path),
        "SECURITY_BLOCKED_COUNTRIES": "CN",
    }
    result = subprocess.run(
        [sys.executable, "-m", "example_service", "serve", "--port", "0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert b"SECURITY_GEOIP_DATABASE_PATH" in result.stderr + result.stdout


async def test_a_replaced_database_is_used_without_restart(
    geo_app: Callable[..., FastAPI], geodb: Path, logs: LogCapture
) -> None:
    app = geo_app(blocked_countries=["CN"], geoip_reload_seconds=0.05)
    async with running(app) as get:
        assert await statuses(get, GB, CN) == [200, 403]
        # The new week's file: those networks have changed countries.
        write_country_db(geodb, {**NETWORKS, "81.2.69.0/24": "CN", "175.16.199.0/24": "GB"})
        await eventually(lambda: app.state.geo.reloads > 0, within=10)
        assert app.state.geo.reloads == 1
        assert await statuses(get, GB, CN) == [403, 200]
        # A broken update keeps the version in use.
        (geodb.parent / "next").write_bytes(b"truncated download")
        os.replace(geodb.parent / "next", geodb)
        await eventually(lambda: bool(logs.events("geoip.reload_failed")), within=10)
        assert await statuses(get, GB, CN) == [403, 200]
    assert [e["event"] for e in logs.events("geoip.reloaded")] == ["geoip.reloaded"]


async def test_off_installs_nothing(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings())
    assert app.state.geo is None
    assert app.state.bans is None
    assert app.state.security_alerts is None
    layers = {m.cls.__name__ for m in app.user_middleware}
    assert not layers & {"GeoBlockMiddleware", "AbuseMiddleware"}


def test_off_imports_no_reader(tmp_path: Path) -> None:
    code = (
        "import sys; from example_service.app import create_app; create_app(); "
        "assert 'maxminddb' not in sys.modules; "
        "assert 'example_service.security.abuse' not in sys.modules"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURITY_", "APP_"))}
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True, timeout=60)
