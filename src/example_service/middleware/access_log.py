"""Access-log pieces: the route label and the writer protocol (used by the edge middleware).

Routes are labelled by their template (`/api/v1/users/{user_id}`), never the raw path, so the
label set stays bounded whatever paths clients send.
"""

from __future__ import annotations

from typing import Protocol

from starlette.types import Scope

UNMATCHED_ROUTE = "<unmatched>"


class AccessLog(Protocol):
    def write(
        self,
        method: str,
        route: str,
        status: int,
        duration_ms: float,
        client: str | None,
        *,
        request_id: str | None,
    ) -> None: ...


def route_template(scope: Scope) -> str:
    """The matched route's full path template, or one shared label for unmatched paths.

    FastAPI >= 0.160 keeps included routers nested: `scope["route"]` then carries the path
    relative to its router, while the effective route context carries the full one.
    """
    fastapi_scope = scope.get("fastapi")
    if isinstance(fastapi_scope, dict):
        context = fastapi_scope.get("effective_route_context")
        path = getattr(context, "path", None)
        if isinstance(path, str) and path:
            return path
    # path_format: the template without convertors ("/users/{user_id}", not "{user_id:uuid}").
    path = getattr(scope.get("route"), "path_format", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE
