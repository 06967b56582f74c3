from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel
from starlette.types import Message, Receive, Scope, Send

from example_service.app import create_app
from example_service.errors.problem import ProblemRenderer
from example_service.middleware.input_guard import InputGuard
from example_service.settings import SecuritySettings, Settings
from tests.conftest import SettingsFactory

LIMIT = 1024
JSON = {"content-type": "application/json"}


class Item(BaseModel):
    name: str


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    security = SecuritySettings(
        max_request_size=LIMIT,
        body_limits=["/big=4096", "/big/small=100", "/deep=1000000"],
        max_json_depth=16,
        max_header_count=30,
        max_header_bytes=1000,
    )
    return make_settings(security=security)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.post("/items")
    async def items(item: Item) -> dict[str, str]:
        return {"name": item.name}

    @app.post("/any")
    async def any_json(body: dict[str, object] | list[object]) -> dict[str, int]:
        return {"size": len(body)}

    async def raw(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    app.add_api_route("/deep/any", any_json, methods=["POST"])
    for path in ("/raw", "/big/raw", "/big/small/raw", "/deep/raw"):
        app.add_api_route(path, raw, methods=["POST", "PUT", "GET"])
    return app


def problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_within_limits_passes(client: httpx.AsyncClient) -> None:
    assert (await client.post("/items", json={"name": "x"})).json() == {"name": "x"}
    assert (await client.post("/raw", json="y" * (LIMIT - 10))).json()["received"] < LIMIT
    assert (await client.get("/health")).status_code == 200


async def test_honest_content_length_over_limit_is_413_at_once(
    client: httpx.AsyncClient,
) -> None:
    body = b'"' + b"x" * LIMIT + b'"'
    response = await client.post("/raw", content=body, headers=JSON)
    detail = problem(response, 413, "payload_too_large")["detail"]
    assert str(LIMIT) in str(detail)
    # Unrouted paths too: the limit does not depend on the app reading the body.
    response = await client.post("/nowhere", content=body, headers={"content-type": "text/plain"})
    problem(response, 413, "payload_too_large")


async def test_chunked_body_is_cut_at_the_limit(client: httpx.AsyncClient) -> None:
    sent: list[int] = []

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(1000):  # 1000 x 256 B: far beyond the limit
            sent.append(256)
            yield b"a" * 256

    response = await client.post("/raw", content=stream(), headers=JSON)
    assert "content-length" not in response.request.headers
    problem(response, 413, "payload_too_large")
    # Reading stopped at the chunk that crossed the limit: memory stays flat.
    assert sum(sent) <= LIMIT + 256


async def test_longest_prefix_wins(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    assert (await client.post("/big/raw", content=b"1" * 3000, headers=headers)).status_code == 200
    response = await client.post("/big/small/raw", content=b"1" * 200, headers=headers)
    problem(response, 413, "payload_too_large")
    response = await client.post("/raw", content=b"1" * 3000, headers=headers)
    problem(response, 413, "payload_too_large")


def test_body_limit_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="not '/prefix=bytes'"):
        SecuritySettings(body_limits=["big=10"])


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/merge-patch+json",
    ],
)
async def test_accepted_content_types(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post("/raw", content=b"{}", headers={"content-type": content_type})
    assert response.status_code == 200


async def test_form_types_are_accepted(client: httpx.AsyncClient) -> None:
    assert (await client.post("/raw", data={"a": "b"})).status_code == 200
    assert (await client.post("/raw", files={"f": b"data"})).status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/jsonx", None]
)
async def test_other_content_types_are_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    for method in ("POST", "PUT"):
        response = await client.request(method, "/raw", content=b"{}", headers=headers)
        problem(response, 415, "unsupported_media_type")


async def test_empty_post_needs_no_content_type(client: httpx.AsyncClient) -> None:
    assert (await client.post("/raw")).json() == {"received": 0}
    # `curl -X POST` sends neither Content-Length nor a type: HTTP/1.1 says no body.
    request = client.build_request("POST", "/raw")
    del request.headers["content-length"]
    assert (await client.send(request)).json() == {"received": 0}


async def test_http2_body_without_length_is_still_counted() -> None:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # raises: the app renders nothing
        raise AssertionError("not reached")

    guard = InputGuard(
        inner,
        security=SecuritySettings(max_request_size=10),
        renderer=ProblemRenderer(),
        body_timeout=30,
    )
    scope = {
        "type": "http",
        "http_version": "2",
        "method": "POST",
        "path": "/x",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    start, _ = await call_guard(guard, scope, b"[" + b"1," * 20 + b"1]")
    assert start["status"] == 413


@pytest.mark.parametrize(
    "url", ["/health%00", "/api/v1/info%00.json", "/health?q=%00", "/health?a=1&b=x%00y"]
)
async def test_nul_in_url_is_400(client: httpx.AsyncClient, url: str) -> None:
    response = await client.get(url)
    assert "NUL" in str(problem(response, 400, "bad_request")["detail"])


async def call_guard(guard: InputGuard, scope: Scope, body: bytes = b"") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body}

    async def send(message: Message) -> None:
        sent.append(message)

    await guard(scope, receive, send)
    return sent


async def test_raw_nul_in_query_is_400() -> None:
    # HTTP clients refuse to send a raw NUL; a server may still pass one through.
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not reached")

    guard = InputGuard(
        inner, security=SecuritySettings(), renderer=ProblemRenderer(), body_timeout=30
    )
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/x",
        "query_string": b"q=a\x00b",
        "headers": [],
    }
    start, body = await call_guard(guard, scope)
    assert start["status"] == 400
    assert b"NUL" in body["body"]


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [17, 1000, 100_000])
async def test_deep_json_is_400_never_500(client: httpx.AsyncClient, depth: int) -> None:
    for path in ("/deep/any", "/deep/raw"):
        response = await client.post(path, content=nested(depth), headers=JSON)
        assert "nests deeper than 16" in str(problem(response, 400, "bad_request")["detail"])
    objects = b'{"a":' * depth + b"1" + b"}" * depth
    response = await client.post("/deep/any", content=objects, headers=JSON)
    problem(response, 400, "bad_request")


async def test_recursion_error_is_400_even_with_a_lax_depth_limit(
    make_settings: SettingsFactory,
) -> None:
    # With the depth check out of the way, json.loads raises RecursionError: still never a 500.
    security = SecuritySettings(max_request_size=1_000_000, max_json_depth=1_000_000)
    app = create_app(make_settings(security=security))

    @app.post("/any")
    async def any_json(body: list[object]) -> dict[str, int]:
        return {"size": len(body)}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.post("/any", content=nested(100_000), headers=JSON)
    problem(response, 400, "bad_request")


async def test_depth_at_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/any", content=nested(16), headers=JSON)
    assert response.status_code == 200
    response = await client.post("/any", content=nested(17), headers=JSON)
    problem(response, 400, "bad_request")


async def test_brackets_inside_strings_do_not_count(client: httpx.AsyncClient) -> None:
    body = b'{"a": "' + b"[" * 500 + b'\\" [[[", "b": ["\\\\"]}'
    response = await client.post("/any", content=body, headers=JSON)
    assert response.status_code == 200, response.text


async def test_deep_json_in_a_chunked_body(client: httpx.AsyncClient) -> None:
    async def stream() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"[[[[[["

    response = await client.post("/big/raw", content=stream(), headers=JSON)
    problem(response, 400, "bad_request")


async def test_too_many_headers_is_431(client: httpx.AsyncClient) -> None:
    headers = {f"x-h{i}": "v" for i in range(40)}
    body = problem(
        await client.get("/health", headers=headers), 431, "request_header_fields_too_large"
    )
    assert "30" in str(body["detail"])


async def test_oversized_header_is_431(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"x-big": "v" * 1200})
    problem(response, 431, "request_header_fields_too_large")
    assert (await client.get("/health", headers={"x-ok": "v" * 900})).status_code == 200


async def test_malformed_content_length_is_400(client: httpx.AsyncClient) -> None:
    request = client.build_request("POST", "/raw", content=b"{}", headers=JSON)
    request.headers["content-length"] = "2x"
    problem(await client.send(request), 400, "bad_request")
