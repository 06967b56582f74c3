"""Swagger UI and ReDoc pages served by the app itself, under their own strict CSP.

The pages are ours: their init code is an external file (no inline script, no inline style),
and every asset comes from this origin, so the docs work offline and the CSP can forbid inline
script outright. The Swagger UI and ReDoc bundles come from the `fastapi-offline` package
(Swagger UI 5, Apache-2.0; ReDoc 2, MIT): a Python dependency that upgrades with the lock file,
rather than a megabyte of vendored JavaScript.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import FileResponse, HTMLResponse, Response

from example_service.errors import NotFoundError

# Swagger UI: all code and styles come from our own origin; its CSS embeds SVG icons as data:.
SWAGGER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
# ReDoc styles itself with styled-components, which injects <style> elements and cannot be given
# a nonce from outside its bundle: inline styles are allowed here, inline scripts never. Its
# search index runs in a worker created from a blob: URL.
REDOC_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
STATIC_PATH = "/docs/static"

_OURS = Path(__file__).parent / "static"
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}
_ASSET_CACHE = {"cache-control": "public, max-age=3600"}

# ReDoc's side menu always shows a logo fetched from its CDN; the CSP would block it (and count a
# violation), offline it would fail anyway. Served with an empty image in its place instead.
_REDOC_BUNDLE = "redoc.standalone.js"
_REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
_EMPTY_SVG = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{static}/favicon.png">
{styles}</head>
<body>
<div id="{root}" data-openapi-url="{openapi}"></div>
{scripts}</body>
</html>
"""


def docs_policies() -> dict[str, str]:
    return {DOCS_PATH: SWAGGER_CSP, REDOC_PATH: REDOC_CSP}


def _assets() -> dict[str, Path]:
    vendor = Path(str(files("fastapi_offline") / "static"))
    names = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
    assets = {name: vendor / name for name in names}
    assets.update({path.name: path for path in _OURS.iterdir() if path.suffix in _MEDIA_TYPES})
    missing = [str(path) for path in assets.values() if not path.is_file()]
    if missing:
        raise RuntimeError(f"docs assets missing: {', '.join(missing)}")
    return assets


def _page(
    request: Request, *, title: str, root: str, openapi_url: str, css: list[str], js: list[str]
) -> HTMLResponse:
    prefix = request.scope.get("root_path", "").rstrip("/")
    static = prefix + STATIC_PATH
    html = _PAGE.format(
        title=escape(title),
        static=static,
        root=root,
        openapi=escape(prefix + openapi_url),
        styles="".join(f'<link rel="stylesheet" href="{static}/{name}">\n' for name in css),
        scripts="".join(f'<script src="{static}/{name}"></script>\n' for name in js),
    )
    return HTMLResponse(html)


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Add /docs, /redoc and their assets (outside the OpenAPI schema)."""
    assets = _assets()
    title = app.title

    async def swagger(request: Request) -> HTMLResponse:
        return _page(
            request,
            title=f"{title} - Swagger UI",
            root="swagger-ui",
            openapi_url=openapi_url,
            css=["swagger-ui.css", "docs.css"],
            js=["swagger-ui-bundle.js", "swagger-init.js"],
        )

    async def redoc(request: Request) -> HTMLResponse:
        return _page(
            request,
            title=f"{title} - ReDoc",
            root="redoc",
            openapi_url=openapi_url,
            css=["docs.css"],
            js=["redoc.standalone.js", "redoc-init.js"],
        )

    patched: dict[str, bytes] = {}

    async def asset(name: str) -> Response:
        path = assets.get(name)
        if path is None:
            raise NotFoundError("No such docs asset.")
        media_type = _MEDIA_TYPES[path.suffix]
        if name == _REDOC_BUNDLE:
            if name not in patched:  # read once, on first use: the docs are rarely opened
                patched[name] = path.read_bytes().replace(_REDOC_LOGO, _EMPTY_SVG)
            return Response(patched[name], media_type=media_type, headers=_ASSET_CACHE)
        return FileResponse(path, media_type=media_type, headers=_ASSET_CACHE)

    app.add_api_route(DOCS_PATH, swagger, include_in_schema=False)
    app.add_api_route(REDOC_PATH, redoc, include_in_schema=False)
    app.add_api_route(STATIC_PATH + "/{name}", asset, include_in_schema=False)
