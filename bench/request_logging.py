"""What request logging adds to a request: `python -m bench.request_logging`.

An ASGI app that reads a 1 KB JSON body (a user's profile: e-mail, phone, password, nested
fields) and answers 1 KB of JSON, called directly with and without the RequestLogging layer
(LOG_REQUESTS=true: masking both bodies, the headers and the query, then writing the line
through the real JSON log pipeline into memory). Per request, best of 5 runs, minus the bare
call. The full stack costs some 200 µs of CPU per request (README, Benchmark), for scale.
"""

from __future__ import annotations

import asyncio
import io
import time

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from example_service.middleware.request_logging import RequestLogging
from example_service.observability.logging import configure_logging
from example_service.observability.pii import PIIMasker
from example_service.settings import LogSettings

REQUESTS = 5_000
RUNS = 5
PROFILE = {
    "email": "alice.smith@example.com",
    "password": "correct horse battery staple",
    "phone": "+1 (555) 123-4567",
    "address": {"street": "1 Infinite Loop", "city": "Cupertino", "zip": "95014"},
    "preferences": {"newsletter": True, "language": "en", "tags": ["a", "b", "c"] * 8},
    "notes": "Customer since 2019; prefers e-mail. " * 12,
}
BODY = orjson.dumps(PROFILE)
SCOPE: Scope = {
    "type": "http",
    "method": "POST",
    "path": "/api/v1/profiles",
    "query_string": b"source=web",
    "client": ("203.0.113.7", 5000),
    "headers": [
        (b"host", b"api.example.com"),
        (b"content-type", b"application/json"),
        (b"authorization", b"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"),
        (b"user-agent", b"bench/1.0"),
        (b"content-length", str(len(BODY)).encode()),
    ],
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    message = await receive()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": message["body"]})


async def receive() -> dict[str, object]:
    return {"type": "http.request", "body": BODY, "more_body": False}


async def send(_message: object) -> None:
    return None


async def per_request(target: ASGIApp) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        for _ in range(REQUESTS):
            await target(dict(SCOPE), receive, send)
        best = min(best, time.perf_counter() - started)
    return best / REQUESTS * 1e6


async def main() -> None:
    configure_logging(LogSettings(), io.BytesIO())  # the real pipeline, into memory
    logged = RequestLogging(app, masker=PIIMasker(), max_body_bytes=10_240, exempt=["/health"])
    bare = await per_request(app)
    with_log = await per_request(logged)
    print(f"body {len(BODY)} bytes each way")
    print(f"bare app:         {bare:8.2f} us/request")
    print(f"request logging:  {with_log:8.2f} us/request (+{with_log - bare:.2f} us)")


if __name__ == "__main__":
    asyncio.run(main())
