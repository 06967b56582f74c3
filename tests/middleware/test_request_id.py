from __future__ import annotations

import os
import re

import httpx
import pytest

from example_service.middleware.request_id import accept_request_id, new_request_id
from tests.conftest import LogCapture


async def test_generated_when_absent(client: httpx.AsyncClient) -> None:
    first = (await client.get("/health")).headers["x-request-id"]
    second = (await client.get("/health")).headers["x-request-id"]
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


@pytest.mark.parametrize(
    "value", ["abc-123", "0b0e5c7e-9f6a-4b8e-8a0c-6c1f7d2e9a11", "trace.span:1_x"]
)
async def test_sane_incoming_id_is_kept(client: httpx.AsyncClient, value: str) -> None:
    assert (await client.get("/health", headers={"x-request-id": value})).headers[
        "x-request-id"
    ] == value


@pytest.mark.parametrize(
    "value",
    [b"a" * 65, b"has space", b"semi;colon", b"new\tline", b"<script>", "ünïcode".encode()],
)
async def test_malformed_or_long_incoming_id_is_replaced(
    client: httpx.AsyncClient, value: bytes
) -> None:
    returned = (await client.get("/health", headers={b"x-request-id": value})).headers[
        "x-request-id"
    ]
    assert returned.encode() != value
    assert len(returned) == 32


def test_accept_rules() -> None:
    assert accept_request_id(b"") is None
    assert accept_request_id(b"x" * 64) == "x" * 64
    assert accept_request_id(b"x" * 65) is None
    ids = [new_request_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    # 32 hex digits each: the process prefix, then the counter at a fixed width.
    assert all(re.fullmatch("[0-9a-f]{32}", value) for value in ids)
    assert len({value[:16] for value in ids}) == 1


async def test_request_id_in_every_log_line(client: httpx.AsyncClient, logs: LogCapture) -> None:
    logs.clear()
    await client.get("/api/v1/nope", headers={"x-request-id": "trace-me"})
    lines = [line for line in logs.lines() if line.get("logger") != "httpx"]
    assert {line["event"] for line in lines} >= {"http.error", "http.request"}
    assert all(line["request_id"] == "trace-me" for line in lines)


def test_forked_child_draws_a_new_prefix() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child process
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    assert child[:16] != new_request_id()[:16]
