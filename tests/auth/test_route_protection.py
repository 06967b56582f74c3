"""Every route outside an explicit public list requires authentication."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from example_service.auth.dependencies import authenticate
from example_service.docs.pages import DOCS_PATH, REDOC_PATH, STATIC_PATH

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/api/v1/info"),
    ("GET", "/api/v1/health/live"),
    ("GET", "/api/v1/health/ready"),
    ("GET", "/api/v1/health/startup"),
    ("POST", "/api/v1/users"),  # registration
    ("POST", "/api/v1/auth/login"),
    ("POST", "/auth/login"),
    ("POST", "/api/v1/auth/refresh"),  # authenticated by the refresh token in the body
    # API docs and their static assets: switched off in production unless APP_DOCS_ENABLED
    ("GET", DOCS_PATH),
    ("GET", REDOC_PATH),
    ("GET", STATIC_PATH + "/{name}"),
}


def requires_auth(dependant: Dependant) -> bool:
    return any(dep.call is authenticate or requires_auth(dep) for dep in dependant.dependencies)


def test_every_non_public_route_has_an_auth_dependency(app: FastAPI) -> None:
    seen = set()
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue  # docs and openapi.json: Starlette routes, switched off in production
        for method in route.methods:
            key = (method, route.path_format)
            seen.add(key)
            if key in PUBLIC:
                assert not requires_auth(route.dependant), key
            else:
                assert requires_auth(route.dependant), f"{key} has no auth dependency"
    assert seen >= PUBLIC, PUBLIC - seen
    assert ("GET", "/api/v1/users/{user_id}") in seen


def test_the_walk_detects_a_missing_dependency(app: FastAPI) -> None:
    @app.get("/api/v1/oops")
    async def oops() -> dict[str, str]:
        return {}

    route = next(r for r in app.routes if isinstance(r, APIRoute) and r.path == "/api/v1/oops")
    assert not requires_auth(route.dependant)


def test_openapi_declares_the_credentials_of_exactly_the_authenticated_operations(
    app: FastAPI,
) -> None:
    schema = app.openapi()
    assert schema["components"]["securitySchemes"] == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token from /auth/login.",
        },
        "APIKeyHeader": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An API key.",
        },
    }
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            if requires_auth(route.dependant):
                assert operation["security"] == [{"HTTPBearer": []}, {"APIKeyHeader": []}]
            else:
                assert "security" not in operation, (method, route.path_format)
