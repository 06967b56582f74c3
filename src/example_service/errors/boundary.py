"""The error boundary: anything raised below it leaves as a problem response, never a traceback.

It replaces Starlette's ServerErrorMiddleware (which answers in text/plain and sits outside the
user middleware, so its 500s would miss their headers). Layers outside the boundary (request id,
access log, security headers) see its response like any other.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example_service.errors.handlers import log_problem
from example_service.errors.problem import ProblemRenderer
from example_service.errors.translate import problem_for


class ErrorBoundaryMiddleware:
    def __init__(self, app: ASGIApp, renderer: ProblemRenderer) -> None:
        self.app = app
        self.renderer = renderer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            path = scope.get("path", "")
            problem = problem_for(exc)
            log_problem(problem, exc, path)
            if started:
                # Headers are gone: the connection can only be cut; let the server do it.
                raise
            body, headers = self.renderer.render(problem, path)
            await send({"type": "http.response.start", "status": problem.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
