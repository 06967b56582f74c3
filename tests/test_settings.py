from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from example_service.app import create_app
from example_service.settings import (
    AppSettings,
    CacheSettings,
    RedisSettings,
    SecuritySettings,
    Settings,
    SettingsError,
    mask_url,
)
from tests.conftest import LogCapture, SettingsFactory
from tests.errors.conftest import add_failing_routes

STRONG = "x" * 40


def production(**app: object) -> AppSettings:
    return AppSettings(environment="production", **app)  # type: ignore[arg-type]


def test_env_names_per_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENVIRONMENT", "staging")
    monkeypatch.setenv("APP_CORS_ALLOW_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("APP_ALLOWED_HOSTS", '["api.example.com"]')
    monkeypatch.setenv("LOG_FORMAT", "console")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u:p@h/db")
    monkeypatch.setenv("TELEMETRY_MODE", "prometheus")
    monkeypatch.setenv("RATE_LIMIT_REQUESTS", "5")
    settings = Settings.load()
    assert settings.app.environment == "staging"
    assert settings.app.cors_allow_origins == ["https://a.example", "https://b.example"]
    assert settings.app.allowed_hosts == ["api.example.com"]
    assert settings.log.format == "console"
    assert settings.database.url.get_secret_value().startswith("postgresql")
    assert settings.telemetry.mode == "prometheus"
    assert settings.rate_limit.requests == 5


def test_dotenv_file_is_read(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path_factory.mktemp("envfile")
    (directory / ".env").write_text("APP_NAME=from-dotenv\n")
    monkeypatch.chdir(directory)
    assert Settings.load().app.name == "from-dotenv"


def test_production_refuses_default_secret() -> None:
    with pytest.raises(SettingsError, match="SECURITY_JWT_SECRET"):
        Settings(app=production()).check()


def test_production_refuses_short_secret() -> None:
    with pytest.raises(SettingsError, match="at least 32"):
        Settings(app=production(), security=SecuritySettings(jwt_secret="short")).check()


def test_production_refuses_debug() -> None:
    with pytest.raises(SettingsError, match="APP_DEBUG"):
        Settings(app=production(debug=True), security=SecuritySettings(jwt_secret=STRONG)).check()


def test_production_refuses_wildcard_cors_with_credentials() -> None:
    settings = Settings(
        app=production(cors_allow_origins=["*"], cors_allow_credentials=True),
        security=SecuritySettings(jwt_secret=STRONG),
    )
    with pytest.raises(SettingsError, match="APP_CORS_ALLOW_ORIGINS"):
        settings.check()


def test_create_app_refuses_unsafe_production() -> None:
    with pytest.raises(SettingsError):
        create_app(Settings(app=production()))


def test_safe_production_starts_without_docs() -> None:
    app = create_app(Settings(app=production(), security=SecuritySettings(jwt_secret=STRONG)))
    assert app.docs_url is None and app.openapi_url is None


def test_non_production_tolerates_defaults() -> None:
    Settings(app=AppSettings(environment="local", debug=True)).check()


@pytest.mark.parametrize("backend", ["redis", "two-level"])
def test_a_redis_cache_without_redis_is_refused(backend: str) -> None:
    with pytest.raises(SettingsError, match=f"CACHE_BACKEND={backend} needs (Redis|REDIS_URL)"):
        Settings(cache=CacheSettings(backend=backend)).check()
    Settings(cache=CacheSettings(backend=backend, enabled=False)).check()
    # part: redis
    redis = RedisSettings(url="redis://cache:6379/0")
    Settings(cache=CacheSettings(backend=backend), redis=redis).check()
    # end part: redis


def test_public_dump_masks_secrets() -> None:
    dump = Settings(security=SecuritySettings(jwt_secret=STRONG)).public_dump()
    assert dump["security"]["jwt_secret"] == "**********"
    assert STRONG not in str(dump)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://user:pw@host/db", "postgresql://user:***@host/db"),
        ("redis://:pw@host:6379/0", "redis://:***@host:6379/0"),
        ("sqlite+aiosqlite:///./var/app.db", "sqlite+aiosqlite:///./var/app.db"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def _env_names() -> set[str]:
    names = set()
    for name in Settings.model_fields:
        section = Settings.model_fields[name].default_factory()  # type: ignore[misc, call-arg]
        prefix = section.model_config["env_prefix"]
        names |= {f"{prefix}{field}".upper() for field in type(section).model_fields}
    return names


EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def test_env_example_lists_every_variable() -> None:
    listed = {
        line.split("=", 1)[0]
        for line in EXAMPLE.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert listed == _env_names()


def test_env_example_values_are_the_defaults(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path_factory.mktemp("example")
    (directory / ".env").write_text(EXAMPLE.read_text())
    monkeypatch.chdir(directory)
    from_example = Settings.load().public_dump()
    monkeypatch.chdir(tmp_path_factory.mktemp("empty"))
    assert from_example == Settings.load().public_dump()


def test_other_templates_names_are_read_with_a_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    # part: redis
    monkeypatch.setenv("SECURITY_REDIS_URL", "redis://cache:6379/0")
    # end part: redis
    monkeypatch.setenv("SECURITY_RATE_LIMIT_ENABLED", "false")
    monkeypatch.setenv("APP_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("APP_DATABASE_URL", "sqlite+aiosqlite:///./other.db")
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///./ours.db")
    settings = Settings.load()
    # part: redis
    assert settings.redis.url is not None
    assert settings.redis.url.get_secret_value() == "redis://cache:6379/0"
    # end part: redis
    assert settings.rate_limit.enabled is False
    assert settings.log.level == "WARNING"
    assert settings.database.url.get_secret_value().endswith("ours.db")  # ours wins
    assert settings.notices == [
        "APP_DATABASE_URL is ignored: DATABASE_URL is set and wins; remove APP_DATABASE_URL",
        "APP_LOG_LEVEL is read as LOG_LEVEL; rename it",
        "SECURITY_RATE_LIMIT_ENABLED is read as RATE_LIMIT_ENABLED; rename it",
        # part: redis
        "SECURITY_REDIS_URL is read as REDIS_URL; rename it",
        # end part: redis
    ]


def test_other_names_in_dotenv_too(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path_factory.mktemp("envfile")
    (directory / ".env").write_text("SECURITY_JWT_EXPIRY_MINUTES=42\n")
    monkeypatch.chdir(directory)
    settings = Settings.load()
    assert settings.security.access_token_expire_minutes == 42
    assert settings.notices == [
        "SECURITY_JWT_EXPIRY_MINUTES is read as SECURITY_ACCESS_TOKEN_EXPIRE_MINUTES; rename it"
    ]


def test_ignored_and_unknown_names_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURITY_RATE_LIMIT_PER_MINUTE", "100")
    monkeypatch.setenv("RATE_LIMIT_REQUEST", "5")  # a typo of RATE_LIMIT_REQUESTS
    settings = Settings.load()
    assert settings.rate_limit.requests == 60
    assert settings.notices == [
        "RATE_LIMIT_REQUEST is not a setting of this service and is ignored",
        "SECURITY_RATE_LIMIT_PER_MINUTE is ignored: set RATE_LIMIT_REQUESTS "
        "(per RATE_LIMIT_WINDOW_SECONDS, 60 by default)",
    ]


async def test_notices_are_logged_at_startup(
    monkeypatch: pytest.MonkeyPatch, logs: LogCapture
) -> None:
    monkeypatch.setenv("SECURITY_ENABLE_PROMETHEUS", "true")
    monkeypatch.setenv("APP_ENVIRONMENT", "test")
    create_app()
    [notice] = logs.events("settings.notice")
    assert notice["level"] == "warning"
    assert (
        notice["detail"] == "SECURITY_ENABLE_PROMETHEUS is ignored: set TELEMETRY_MODE=prometheus"
    )


async def test_debug_adds_the_exception_to_500s(make_settings: SettingsFactory) -> None:
    for debug in (False, True):
        app = create_app(make_settings(app=AppSettings(environment="test", debug=debug)))
        add_failing_routes(app)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                body = (await client.get("/boom/handler")).json()
                not_found = (await client.get("/app-error/not_found")).json()
        assert body["detail"] == "Internal server error"
        assert "debug" not in not_found
        if not debug:
            assert "debug" not in body
            continue
        assert body["debug"]["exception"].startswith("RuntimeError: handler exploded")
        assert any("boom_handler" in line for line in body["debug"]["traceback"])


def test_the_seeds_breaker_names_set_every_breaker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURITY_CIRCUIT_BREAKER_THRESHOLD", "7")
    monkeypatch.setenv("SECURITY_CIRCUIT_BREAKER_TIMEOUT", "60")
    resilience = Settings.load().resilience
    assert (resilience.failure_threshold, resilience.recovery_seconds) == (7, 60.0)
    # Per dependency, the database and Redis keep their own unless they are emptied.
    assert resilience.breaker_for("http") == (7, 60.0)
    assert resilience.breaker_for("db") == (3, 5.0)
