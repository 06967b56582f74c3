"""A refused client's WebSocket handshake is closed before it is accepted (the server then
answers 403); any other handshake reaches the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from example_service.errors.problem import ProblemRenderer
from example_service.security.abuse import AbuseMiddleware
from example_service.security.addresses import AddressSet, ClientKeys
from example_service.security.bans import Bans
from example_service.security.geoip import GeoBlockMiddleware, GeoDatabase
from example_service.settings import SecuritySettings
from tests.security.conftest import POLICY
from tests.security.geodb import write_country_db

ACCEPTED: Message = {"type": "websocket.accept"}
CLOSED: Message = {"type": "websocket.close", "code": 1008, "reason": "refused"}


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    await send(ACCEPTED)


async def handshake(app: Any, address: str) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": [], "client": (address, 1)}
    await app(scope, receive, send)
    return sent


async def test_denied_and_banned_clients_are_closed() -> None:
    bans = Bans(POLICY)
    for _ in range(10):
        await bans.strike("198.18.0.9", "rate_limit")
    app = AbuseMiddleware(
        inner,
        renderer=ProblemRenderer("problem", "/problems/"),
        bans=bans,
        denied=AddressSet(["198.51.100.0/24"]),
        max_concurrent=0,
        watch=None,
        keys=ClientKeys(),
    )
    assert await handshake(app, "198.51.100.4") == [CLOSED]
    assert await handshake(app, "198.18.0.9") == [CLOSED]
    assert await handshake(app, "198.18.0.10") == [ACCEPTED]


@pytest.mark.parametrize(
    ("address", "expected"), [("175.16.199.1", CLOSED), ("81.2.69.1", ACCEPTED)]
)
async def test_a_geo_blocked_client_is_closed(
    tmp_path: Path, address: str, expected: Message
) -> None:
    path = write_country_db(tmp_path / "c.mmdb", {"81.2.69.0/24": "GB", "175.16.199.0/24": "CN"})
    settings = SecuritySettings(
        enable_geo_blocking=True, geoip_database_path=path, blocked_countries=["CN"]
    )
    app = GeoBlockMiddleware(
        inner, geo=GeoDatabase(settings), renderer=ProblemRenderer("problem", "/problems/")
    )
    assert await handshake(app, address) == [expected]
