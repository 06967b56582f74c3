"""The error boundary's rendering: anything raised below the edge leaves as a problem response.

It replaces Starlette's ServerErrorMiddleware, which answers in text/plain and sits outside the
user middleware, so its 500s would miss their headers.
"""

from __future__ import annotations

from starlette.types import Message

from example_service.errors.handlers import log_problem
from example_service.errors.problem import ProblemRenderer
from example_service.errors.translate import problem_for


def unhandled_response(
    renderer: ProblemRenderer, exc: Exception, path: str
) -> tuple[Message, Message]:
    """Log the exception and return the response start and body messages for it."""
    problem = problem_for(exc)
    log_problem(problem, exc, path)
    body, headers = renderer.render(problem, path)
    start: Message = {"type": "http.response.start", "status": problem.status, "headers": headers}
    return start, {"type": "http.response.body", "body": body}
