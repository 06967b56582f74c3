"""OpenAPI: the credentials that authenticated operations accept.

`authenticate` calls the security schemes itself instead of declaring them as dependencies (see
there), so FastAPI no longer derives them; they are declared here, as FastAPI would have: the
schemes under `components.securitySchemes`, and on every operation that authenticates, either
scheme as the requirement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from example_service.auth.dependencies import SCHEMES, requires_authentication


def declare_security(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> dict[str, Any]:
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    for scheme in SCHEMES:
        schemes[scheme.scheme_name] = jsonable_encoder(
            scheme.model, by_alias=True, exclude_none=True
        )
    paths = schema.get("paths", {})
    for route in routes:
        if not isinstance(route, APIRoute) or not requires_authentication(route.dependant):
            continue
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation["security"] = [{scheme.scheme_name: []} for scheme in SCHEMES]
    return schema
