from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from example_service.app import create_app
from example_service.settings import AppSettings, SecuritySettings
from tests.conftest import SettingsFactory


@pytest.mark.parametrize(
    ("path", "scripts"),
    [
        ("/docs", ["swagger-ui-bundle.js", "swagger-init.js"]),
        ("/redoc", ["redoc.standalone.js", "redoc-init.js"]),
    ],
)
async def test_pages_load_everything_from_this_origin(
    client: httpx.AsyncClient, path: str, scripts: list[str]
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    # No inline script or style and nothing from another origin.
    assert re.findall(r'<script src="([^"]+)"></script>', html) == [
        f"/docs/static/{name}" for name in scripts
    ]
    assert "<script>" not in html and "<style" not in html and "style=" not in html
    assert "http://" not in html and "https://" not in html
    assert 'data-openapi-url="/openapi.json"' in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.content


async def test_assets_have_their_types(client: httpx.AsyncClient) -> None:
    js = await client.get("/docs/static/swagger-ui-bundle.js")
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert js.headers["x-content-type-options"] == "nosniff"
    assert js.headers["cache-control"] == "public, max-age=3600"
    css = await client.get("/docs/static/swagger-ui.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    missing = await client.get("/docs/static/..%2Fpages.py")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert (await client.get("/docs/static/pages.py")).status_code == 404


async def test_root_path_prefixes_every_url(app: FastAPI) -> None:
    # Behind a proxy mounting the service under /svc (uvicorn --root-path).
    transport = httpx.ASGITransport(app=app, root_path="/svc")
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        html = (await c.get("/svc/docs")).text
    assert 'data-openapi-url="/svc/openapi.json"' in html
    assert 'src="/svc/docs/static/swagger-init.js"' in html


@pytest.mark.parametrize(
    ("environment", "enabled", "on"),
    [
        ("production", None, False),
        ("production", True, True),
        ("local", None, True),
        ("staging", False, False),
    ],
)
async def test_docs_switch(
    make_settings: SettingsFactory, environment: str, enabled: bool | None, on: bool
) -> None:
    app_settings = AppSettings(environment=environment, docs_enabled=enabled)
    security = SecuritySettings(jwt_secret="x" * 40)
    app = create_app(make_settings(app=app_settings, security=security))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/static/swagger-init.js"):
            response = await c.get(path)
            assert response.status_code == (200 if on else 404), path


async def test_redoc_bundle_fetches_nothing_from_its_cdn(client: httpx.AsyncClient) -> None:
    bundle = await client.get("/docs/static/redoc.standalone.js")
    assert bundle.headers["content-type"] == "text/javascript; charset=utf-8"
    assert b"Redoc" in bundle.content
    assert b"cdn.redoc.ly" not in bundle.content
    assert (await client.get("/docs/static/redoc.standalone.js")).content == bundle.content
