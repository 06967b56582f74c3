"""Conditional GETs: a strong `ETag` and `If-None-Match` (RFC 9110 sections 8.8.3, 13.1.2).

The tag is a digest of the body, so it changes exactly when the representation does, whichever
process serves it and whether it came from the cache or the database. A client that sends back
the tag it holds gets a 304 with no body when nothing changed. `Cache-Control: private,
no-cache` lets the client (never a shared cache: the body is one user's) keep the response, on
condition that it asks again before each use, so a change is seen at once; the security
headers' default `no-store` would forbid keeping it at all (the response's own value wins, see
middleware/security_headers.py).

Preconditions are evaluated after authentication and authorization, as RFC 9110 section 13.2.1
requires: a 304 never tells an unauthorized caller that something exists.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

CACHE_CONTROL = b"private, no-cache"
# An entity-tag, weak or strong; If-None-Match compares them weakly (the opaque part only).
_ENTITY_TAG = re.compile(r'(?:W/)?("[^"]*")')

# For the operations that answer conditionally: the request header, and what a 304 means.
OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "description": "ETags of representations you hold, or `*`: 304 when one is current.",
            "schema": {"type": "string"},
        }
    ]
}
ETAG_HEADER = {"ETag": {"description": "A strong tag of the body.", "schema": {"type": "string"}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"headers": ETAG_HEADER},
    304: {
        "description": "Not Modified: the representation named in If-None-Match is current.",
        "headers": ETAG_HEADER,
    },
}


def etag_of(body: bytes) -> bytes:
    # 128 bits of SHA-256: a collision would need 2**64 versions of one resource.
    return b'"%s"' % hashlib.sha256(body).hexdigest()[:32].encode()


def none_match(if_none_match: str, etag: str) -> bool:
    """Whether If-None-Match's condition is false for `etag`: the client holds it (or `*`)."""
    value = if_none_match.strip()
    if value == "*":  # any current representation: there is one, since we are answering
        return True
    return etag in _ENTITY_TAG.findall(value)


def conditional_json(request: Request, model: BaseModel) -> Response:
    """`model` as JSON with its ETag, or a 304 when the request's If-None-Match names it."""
    body = model.__pydantic_serializer__.to_json(model)
    etag = etag_of(body)
    headers = [(b"etag", etag), (b"cache-control", CACHE_CONTROL)]
    condition = request.headers.get("if-none-match")
    if condition is not None and none_match(condition, etag.decode()):
        response = Response(status_code=304)
        response.raw_headers = headers  # no content type or length: there is no body
        return response
    response = Response(body, media_type="application/json")
    response.raw_headers.extend(headers)
    return response
