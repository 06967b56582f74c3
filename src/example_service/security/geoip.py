"""Geo blocking: the client's country from a MaxMind DB file, allowed or refused.

The country is looked up from the client address the proxy-headers layer settled on (so behind
a trusted proxy it is the real client's), at most once per request, and only while
SECURITY_ENABLE_GEO_BLOCKING is on: otherwise this layer is not installed. Verdicts are cached
per address (bounded) and forgotten when the database changes.

The database is the deployment's own file (GeoLite2-Country, or any DB with
`country.iso_code`). A file that is missing or is not a MaxMind DB refuses startup. While the
service runs, the file is checked every SECURITY_GEOIP_RELOAD_SECONDS and reopened when it
changed, so a weekly update needs no restart; a new version that cannot be read is logged and
the previous one kept. Replace the file atomically (write beside it, then rename), as
geoipupdate does: the reader maps the file into memory.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path
from typing import Any

import maxminddb
from starlette.types import ASGIApp, Receive, Scope, Send

from example_service.errors.boundary import send_problem
from example_service.errors.problem import ProblemRenderer
from example_service.observability.logging import get_logger
from example_service.security.addresses import is_private
from example_service.security.errors import GeoBlockedError
from example_service.settings import SecuritySettings, SettingsError

logger = get_logger("example_service.security")

SETTING = "SECURITY_GEOIP_DATABASE_PATH"
UNKNOWN = "unknown"
_CHECKED = frozenset({"http", "websocket"})  # not lifespan


def _signature(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def open_reader(path: Path) -> maxminddb.Reader:
    """The reader for `path`, or `SettingsError` naming the setting."""
    try:
        return maxminddb.open_database(str(path))
    except FileNotFoundError as exc:
        raise SettingsError(f"{SETTING}={path}: no such file") from exc
    except OSError as exc:
        raise SettingsError(f"{SETTING}={path}: cannot be read ({exc})") from exc
    except (maxminddb.InvalidDatabaseError, ValueError) as exc:
        raise SettingsError(f"{SETTING}={path}: not a MaxMind DB file ({exc})") from exc


def country_of(record: Any) -> str | None:
    """`country.iso_code`, else `registered_country.iso_code` (an address whose users are
    elsewhere, e.g. a satellite provider's), else None."""
    if not isinstance(record, dict):
        return None
    for key in ("country", "registered_country"):
        entry = record.get(key)
        if isinstance(entry, dict):
            code = entry.get("iso_code")
            if isinstance(code, str) and code:
                return code.upper()
    return None


class GeoDatabase:
    """The open database, the policy, and the verdict per address.

    Opened by `create_app` (so that a bad file refuses startup) and kept as long as the app: a
    lifespan run more than once (tests do) finds it open.
    """

    def __init__(self, settings: SecuritySettings) -> None:
        if settings.geoip_database_path is None:
            raise SettingsError(f"SECURITY_ENABLE_GEO_BLOCKING needs {SETTING}")
        self.path = settings.geoip_database_path
        self.allowed = frozenset(settings.allowed_countries)
        self.blocked = frozenset(settings.blocked_countries)
        self.block_unknown = settings.geo_unknown_country == "block"
        self.reload_seconds = settings.geoip_reload_seconds
        self.reader = open_reader(self.path)
        self.signature = _signature(self.path)
        self.reloads = 0
        # address -> the country to refuse it for, or None: it may pass.
        self.refused_country = lru_cache(maxsize=65_536)(self._refused_country)

    def country(self, host: str) -> str | None:
        try:
            record = self.reader.get(host)
        except ValueError:  # not an IP address (e.g. a unix socket peer)
            return None
        return country_of(record)

    def _refused_country(self, host: str) -> str | None:
        if is_private(host):
            return None
        country = self.country(host)
        if country is None:
            return UNKNOWN if self.block_unknown else None
        if self.allowed and country not in self.allowed:
            return country
        return country if country in self.blocked else None

    def reload_if_changed(self) -> bool:
        """Reopen the file if it changed since it was read; whether it was reopened."""
        try:
            signature = _signature(self.path)
        except OSError as exc:
            logger.warning("geoip.reload_failed", path=str(self.path), reason=str(exc))
            return False
        if signature == self.signature:
            return False
        try:
            reader = open_reader(self.path)
        except SettingsError as exc:
            logger.warning("geoip.reload_failed", path=str(self.path), reason=str(exc))
            self.signature = signature  # not again until it changes again
            return False
        old, self.reader, self.signature = self.reader, reader, signature
        self.refused_country.cache_clear()
        old.close()
        self.reloads += 1
        logger.info(
            "geoip.reloaded", path=str(self.path), build_epoch=reader.metadata().build_epoch
        )
        return True

    async def watch(self) -> None:
        """Until cancelled: check the file every `reload_seconds`."""
        while True:
            await asyncio.sleep(self.reload_seconds)
            self.reload_if_changed()


class GeoBlockMiddleware:
    def __init__(self, app: ASGIApp, *, geo: GeoDatabase, renderer: ProblemRenderer) -> None:
        self.app = app
        self.geo = geo
        self.renderer = renderer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind in _CHECKED:
            client = scope.get("client")
            host = client[0] if client else ""
            country = self.geo.refused_country(host)
            if country is not None:
                logger.info("security.geo_blocked", client=host, country=country)
                if kind == "websocket":  # before the handshake: the server answers 403
                    await send({"type": "websocket.close", "code": 1008, "reason": "refused"})
                else:
                    await send_problem(self.renderer, GeoBlockedError(), scope, receive, send)
                return
        await self.app(scope, receive, send)
