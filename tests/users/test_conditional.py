"""Conditional reads of a user: a strong ETag of the body, 304 for a current If-None-Match."""

from __future__ import annotations

import hashlib

import pytest

from example_service.app import create_app
from example_service.conditional import none_match
from tests.conftest import SettingsFactory
from tests.identity import Api


async def test_etag_and_304(api: Api) -> None:
    alice = await api.account("alice@example.com")
    for url in (f"/api/v1/users/{alice.id}", "/api/v1/users/me"):
        full = await api.client.get(url, headers=alice.auth)
        assert full.status_code == 200
        etag = full.headers["etag"]
        assert etag == f'"{hashlib.sha256(full.content).hexdigest()[:32]}"'
        # The client may keep it, but must ask again before use; the global no-store is gone.
        assert full.headers["cache-control"] == "private, no-cache"
        for condition in (etag, f'"other", {etag}', f"W/{etag}", "*", f' "x" ,W/{etag} '):
            same = await api.client.get(url, headers={**alice.auth, "If-None-Match": condition})
            assert same.status_code == 304, condition
            assert same.content == b""
            assert same.headers["etag"] == etag
            assert same.headers["cache-control"] == "private, no-cache"
            assert "content-type" not in same.headers and "content-length" not in same.headers
        for condition in ('"other"', etag[:-2] + '"', "", "W/", etag.strip('"')):
            other = await api.client.get(url, headers={**alice.auth, "If-None-Match": condition})
            assert other.status_code == 200, condition
            assert other.content == full.content


async def test_a_change_changes_the_tag(api: Api) -> None:
    alice = await api.account("alice@example.com")
    url = f"/api/v1/users/{alice.id}"
    before = (await api.client.get(url, headers=alice.auth)).headers["etag"]
    await api.client.patch(url, headers=alice.auth, json={"full_name": "Alice A."})
    after = await api.client.get(url, headers={**alice.auth, "If-None-Match": before})
    assert after.status_code == 200 and after.json()["full_name"] == "Alice A."
    assert after.headers["etag"] != before


async def test_preconditions_come_after_authentication_and_authorization(api: Api) -> None:
    alice = await api.account("alice@example.com")
    bob = await api.account("bob@example.com")
    url = f"/api/v1/users/{alice.id}"
    anonymous = await api.client.get(url, headers={"If-None-Match": "*"})
    assert anonymous.status_code == 401 and "etag" not in anonymous.headers
    foreign = await api.client.get(url, headers={**bob.auth, "If-None-Match": "*"})
    assert foreign.status_code == 404 and "etag" not in foreign.headers
    assert foreign.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("header", "expected"),
    [('"a"', True), ('W/"a"', True), ('"b", "a"', True), ("*", True), ('"b"', False)],
)
def test_if_none_match_compares_weakly(header: str, expected: bool) -> None:
    assert none_match(header, '"a"') is expected


def test_openapi_declares_the_condition_and_the_304(make_settings: SettingsFactory) -> None:
    paths = create_app(make_settings()).openapi()["paths"]
    for path in ("/api/v1/users/me", "/api/v1/users/{user_id}"):
        operation = paths[path]["get"]
        assert "304" in operation["responses"]
        assert "ETag" in operation["responses"]["200"]["headers"]
        assert "content" not in operation["responses"]["304"]
        names = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert "If-None-Match" in names
    assert "304" not in paths["/api/v1/users"]["get"]["responses"]
