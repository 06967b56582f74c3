"""Starlette's CORS middleware (pure ASGI), with refused preflights as problem responses.

Starlette answers a refused preflight with a plain-text 400; here it leaves through the error
contract like every other error, keeping the CORS headers Starlette computed.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from example_service.errors import BadRequestError
from example_service.errors.boundary import send_problem
from example_service.errors.problem import ProblemRenderer


class _RefusedPreflight(Response):
    def __init__(self, renderer: ProblemRenderer, refused: Response) -> None:
        super().__init__(status_code=400)
        self.renderer = renderer
        self.detail = bytes(refused.body).decode()
        self.cors_headers = {
            name: value
            for name, value in refused.headers.items()
            if name.lower().startswith("access-control-") or name.lower() == "vary"
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = BadRequestError(self.detail, headers=self.cors_headers)
        await send_problem(self.renderer, error, scope, receive, send)


class ProblemCORSMiddleware(CORSMiddleware):
    def __init__(
        self,
        app: ASGIApp,
        *,
        renderer: ProblemRenderer,
        allow_origins: Sequence[str],
        allow_methods: Sequence[str],
        allow_headers: Sequence[str],
        allow_credentials: bool,
        expose_headers: Sequence[str],
        max_age: int,
    ) -> None:
        super().__init__(
            app,
            allow_origins=allow_origins,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            allow_credentials=allow_credentials,
            expose_headers=expose_headers,
            max_age=max_age,
        )
        self.renderer = renderer

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 400:
            return _RefusedPreflight(self.renderer, response)
        return response
