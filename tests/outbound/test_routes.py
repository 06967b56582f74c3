"""Through a route of an app from create_app: what the API's own client sees."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import Request

from example_service.outbound import UnknownServiceError, outbound_client
from tests.outbound.conftest import READ_TIMEOUT, RECOVERY, THRESHOLD, Run
from tests.outbound.upstream import Upstream, refused_url

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_the_request_id_goes_to_the_service(run: Run, upstream: Upstream) -> None:
    async with run() as app:
        response = await app.client.get("/call/echo", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 200
    assert upstream.requests[0].headers["x-request-id"] == "abc-123"
    assert response.headers["x-request-id"] == "abc-123"


@pytest.mark.usefixtures("retries")
async def test_a_4xx_reaches_the_route_untouched(run: Run, upstream: Upstream) -> None:
    async with run() as app:
        response = await app.client.get("/call/status/422")
    assert response.status_code == 422
    assert response.content == b'{"status": 422}'
    assert len(upstream.requests) == 1


@pytest.mark.usefixtures("retries")
async def test_a_failing_service_is_a_503_problem_for_a_get_after_retries(
    run: Run, upstream: Upstream
) -> None:
    async with run() as app:
        response = await app.client.get("/call/status/503?retry_after=9")
        body = assert_problem(response, 503, "service_unavailable")
        assert response.headers["retry-after"] == str(int(RECOVERY))  # the breaker opened
        assert "127.0.0.1" not in response.text and "up" not in str(body["detail"])
        assert len(upstream.requests) == THRESHOLD


@pytest.mark.usefixtures("retries")
async def test_a_post_is_sent_once(run: Run, upstream: Upstream) -> None:
    async with run() as app:
        response = await app.client.post("/call/status/503?retry_after=9", json={})
        assert_problem(response, 503, "service_unavailable")
        assert response.headers["retry-after"] == "9"
        assert [seen.method for seen in upstream.requests] == ["POST"]


async def test_a_refused_connection_is_a_503_problem_with_retry_after(run: Run) -> None:
    async with run(services={"up": refused_url()}) as app:
        response = await app.client.get("/call/anything")
    assert_problem(response, 503, "service_unavailable")
    assert int(response.headers["retry-after"]) >= 1


async def test_a_slow_service_is_a_504_problem_in_bounded_time(run: Run) -> None:
    async with run() as app:
        started = time.monotonic()
        response = await app.client.get("/call/slow/10")
        assert time.monotonic() - started < READ_TIMEOUT + 1
    assert_problem(response, 504, "upstream_timeout")


async def test_a_broken_answer_is_a_502_problem(run: Run) -> None:
    async with run() as app:
        response = await app.client.get("/call/reset")
    assert_problem(response, 502, "upstream_error")


async def test_an_open_breaker_is_a_503_problem_at_once(run: Run, upstream: Upstream) -> None:
    async with run() as app:
        for _ in range(THRESHOLD):
            await app.client.get("/call/status/500")
        seen = upstream.connections
        response = await app.client.get("/call/echo")
        assert_problem(response, 503, "service_unavailable")
        assert response.headers["retry-after"] == str(int(RECOVERY))
        assert upstream.connections == seen


async def test_a_service_missing_from_the_settings_is_named_in_the_error(run: Run) -> None:
    async with run() as app:
        request = Request({"type": "http", "app": app.app})
        assert outbound_client(request, "up") is app.up()
        with pytest.raises(UnknownServiceError, match=r"'payments'.*OUTBOUND_SERVICES"):
            outbound_client(request, "payments")
