"""Clients for rate-limit tests: one ASGI app, any client address."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from example_service.settings import DEFAULT_JWT_SECRET


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[Any]:
    async with LifespanManager(app) as manager:
        yield manager.app


def client_for(asgi: Any, address: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=asgi, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def token(
    sub: str, secret: str = DEFAULT_JWT_SECRET, expires_in: float = 600, **claims: Any
) -> str:
    payload = {
        "sub": sub,
        "exp": int(time.time() + expires_in),
        "iss": "example-service",
        "aud": "example-service",
        **claims,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def ratelimit_t(headers: list[tuple[bytes, bytes]]) -> int:
    """The `t` of a `RateLimit` field, from the limiter's header pairs."""
    value = dict(headers)[b"ratelimit"].decode()
    return int(value.rsplit(";t=", 1)[1])
