"""The error boundary's rendering: anything raised below the edge leaves as a problem response.

It replaces Starlette's ServerErrorMiddleware, which answers in text/plain and sits outside the
user middleware, so its 500s would miss their headers.
"""

from __future__ import annotations

import traceback

from starlette.types import Message, Receive, Scope, Send

from example_service.errors.exceptions import AppError
from example_service.errors.handlers import log_problem, problem_response
from example_service.errors.problem import ProblemRenderer
from example_service.errors.translate import problem_for

DEBUG_FRAMES = 10


def unhandled_response(
    renderer: ProblemRenderer, exc: Exception, path: str, *, debug: bool = False
) -> tuple[Message, Message]:
    """Log the exception and return the response start and body messages for it.

    With `debug` (APP_DEBUG, never in production) a 500 also carries the exception and its
    last frames, for the developer at the other end.
    """
    problem = problem_for(exc)
    log_problem(problem, exc, path)
    if debug and problem.status >= 500:
        frames = traceback.format_exception(exc)
        problem.extra["debug"] = {
            "exception": f"{type(exc).__name__}: {exc}",
            "traceback": [line.rstrip("\n") for line in frames[-DEBUG_FRAMES:]],
        }
    body, headers = renderer.render(problem, path)
    start: Message = {"type": "http.response.start", "status": problem.status, "headers": headers}
    return start, {"type": "http.response.body", "body": body}


async def send_problem(
    renderer: ProblemRenderer, exc: AppError, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer with the problem for `exc` from inside a middleware.

    For rejections made below CORS: raised, they would be rendered by the edge, outside CORS,
    and a browser would see a CORS failure instead of the 413 or 415.
    """
    problem = problem_for(exc)
    path = scope["path"]
    log_problem(problem, exc, path)
    await problem_response(renderer, problem, path)(scope, receive, send)
