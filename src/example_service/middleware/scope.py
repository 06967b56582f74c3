"""Keys this service's layers leave in the ASGI scope for one another."""

from __future__ import annotations

# Raw header pairs for the edge to add to the response start. The rate limiter's headers travel
# this way: appending them in the edge's one send wrapper is cheaper than a send wrapper of the
# limiter's own, and they reach responses a route built itself (FastAPI's injected `Response`
# headers would not). A rate-limit refusal drops them: it carries the refusing policy's own.
RESPONSE_HEADERS = "example_service.response_headers"

# Set by the input guard when it refused a request body while the app was reading it. The app
# then renders an error of its own (FastAPI makes it a 400) that the guard replaces with its own
# problem: the handlers skip logging the replaced one, so each response is logged once.
INPUT_REJECTED = "example_service.input_rejected"
