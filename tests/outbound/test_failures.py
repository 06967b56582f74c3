"""Each way a service can fail, against a real local server: which problem, how many attempts,
and how long it takes (coarse bounds: never a hang)."""

from __future__ import annotations

import time

import pytest

from example_service.errors import (
    ServiceUnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from example_service.observability.context import request_id_var
from tests.conftest import LogCapture
from tests.outbound.conftest import READ_TIMEOUT, RECOVERY, Run
from tests.outbound.upstream import Upstream, refused_url


async def test_an_answer_comes_back_with_the_request_id(run: Run, upstream: Upstream) -> None:
    token = request_id_var.set("req-42")
    try:
        async with run() as app:
            response = await app.up().get("/echo", params={"q": "1"})
    finally:
        request_id_var.reset(token)
    assert response.status_code == 200
    assert response.json()["x-request-id"] == "req-42"
    assert upstream.paths() == ["/echo?q=1"]


@pytest.mark.usefixtures("retries")
async def test_a_4xx_is_returned_untouched_and_never_retried(run: Run, upstream: Upstream) -> None:
    async with run() as app:
        response = await app.up().get("/status/404")
    assert response.status_code == 404 and response.json() == {"status": 404}
    assert len(upstream.requests) == 1


@pytest.mark.usefixtures("retries")
async def test_a_503_is_retried_for_a_get_then_answered_503(
    run: Run, upstream: Upstream, logs: LogCapture
) -> None:
    async with run() as app:
        with pytest.raises(ServiceUnavailableError) as caught:
            await app.up().get("/status/503?retry_after=7")
    assert len(upstream.requests) == 3
    # The third failure opened the breaker: no call goes out before its recovery, so that is
    # the honest wait, not the service's 7 s.
    assert caught.value.headers["Retry-After"] == str(int(RECOVERY))
    [line] = logs.events("outbound.failed")
    assert line["service"] == "up" and line["attempts"] == 3 and line["error"] == "answered 503"


async def test_a_503_passes_on_the_services_retry_after(run: Run) -> None:
    async with run() as app:
        with pytest.raises(ServiceUnavailableError) as caught:
            await app.up().get("/status/503?retry_after=7")
    assert caught.value.headers["Retry-After"] == "7"


@pytest.mark.usefixtures("retries")
async def test_a_get_that_succeeds_on_a_later_attempt_is_an_answer(
    run: Run, upstream: Upstream
) -> None:
    async with run() as app:
        response = await app.up().get("/flaky/2")
    assert response.status_code == 200
    assert len(upstream.requests) == 3


@pytest.mark.usefixtures("retries")
async def test_a_post_is_not_retried_unless_it_carries_an_idempotency_key(
    run: Run, upstream: Upstream
) -> None:
    # A service each: their breakers count apart.
    async with run(services=dict.fromkeys(("a", "b", "c"), upstream.url)) as app:
        with pytest.raises(ServiceUnavailableError):
            await app.up("a").post("/status/503", json={"amount": 1})
        assert len(upstream.requests) == 1
        with pytest.raises(ServiceUnavailableError):
            await app.up("b").post("/status/503", json={}, headers={"Idempotency-Key": "k1"})
        assert len(upstream.requests) == 1 + 3
        with pytest.raises(ServiceUnavailableError):
            await app.up("c").put("/status/503", json={}, idempotent=False)
        assert len(upstream.requests) == 1 + 3 + 1


@pytest.mark.usefixtures("retries")
async def test_a_500_is_a_502_and_not_retried(run: Run, upstream: Upstream) -> None:
    async with run() as app:
        with pytest.raises(UpstreamError):
            await app.up().get("/status/500")
    assert len(upstream.requests) == 1


@pytest.mark.parametrize(("status", "error"), [(502, UpstreamError), (504, UpstreamTimeoutError)])
async def test_gateway_answers_become_the_same_problem(
    run: Run, status: int, error: type[Exception]
) -> None:
    async with run() as app:
        with pytest.raises(error):
            await app.up().get(f"/status/{status}")


async def test_a_slow_answer_is_a_504_within_the_read_timeout(run: Run, upstream: Upstream) -> None:
    # The service's own timeout (JSON form) overrides the section's.
    services = {"up": {"url": upstream.url, "read_timeout_seconds": 0.2}}
    async with run(services=services, read_timeout_seconds=30) as app:
        started = time.monotonic()
        with pytest.raises(UpstreamTimeoutError):
            await app.up().get("/slow/10")
        assert time.monotonic() - started < 0.2 + 1


async def test_an_answer_that_trickles_in_is_cut_at_the_attempt_deadline(run: Run) -> None:
    # One byte every 0.1 s never trips the read timeout; the attempt's deadline stops it.
    async with run(attempt_timeout_seconds=0.5) as app:
        started = time.monotonic()
        with pytest.raises(UpstreamTimeoutError):
            await app.up().get("/trickle")
        assert time.monotonic() - started < 0.5 + 1
    assert READ_TIMEOUT > 0.1


async def test_a_refused_connection_is_a_503_with_retry_after(run: Run) -> None:
    async with run(services={"up": refused_url()}) as app:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailableError) as caught:
            await app.up().get("/anything")
        assert time.monotonic() - started < 1
    assert int(caught.value.headers["Retry-After"]) >= 1


@pytest.mark.usefixtures("retries")
async def test_a_reset_mid_body_is_a_502_and_retried_for_a_get(
    run: Run, upstream: Upstream
) -> None:
    async with run() as app:
        with pytest.raises(UpstreamError):
            await app.up().get("/reset")
    assert len(upstream.requests) == 3


async def test_an_answer_that_is_not_http_is_a_502(run: Run) -> None:
    async with run() as app:
        with pytest.raises(UpstreamError):
            await app.up().get("/garbage")


@pytest.mark.usefixtures("retries")
async def test_a_429_is_a_503_with_its_wait_and_not_retried(run: Run, upstream: Upstream) -> None:
    async with run() as app:
        with pytest.raises(ServiceUnavailableError) as caught:
            await app.up().get("/status/429?retry_after=12")
    assert caught.value.headers["Retry-After"] == "12"
    assert len(upstream.requests) == 1


async def test_a_path_never_leaves_the_service(run: Run, upstream: Upstream) -> None:
    async with run() as app:
        for path in ("//evil.example/x", "http://evil.example/y", "@evil.example/z"):
            assert (await app.up().get(path)).status_code == 200
    assert len(upstream.requests) == 3  # all three reached this server
