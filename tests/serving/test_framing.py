"""Requests framed two ways at once get one 400 and a closed connection, never a second answer.

Whatever follows such a head cannot be told apart from a request smuggled in its body; a server
that answered it as a second request (uvicorn's h11 protocol did) could be made to answer for
someone else behind a proxy that frames the same bytes the other way.
"""

from __future__ import annotations

import pytest
from uvicorn.importer import import_from_string
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from example_service.serving.run import build_config
from example_service.settings import ServerSettings
from tests.servers import ServedProcess
from tests.serving.raw import connect, parse_head, read_until_closed

SMUGGLED = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
POST = b"POST /api/v1/auth/refresh HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
SHAPES = {
    "content-length-and-transfer-encoding": POST
    + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    + SMUGGLED,
    "conflicting-content-lengths": POST
    + b"Content-Length: 5\r\nContent-Length: 41\r\n\r\n{}{}{"
    + SMUGGLED,
}


@pytest.mark.parametrize("request_bytes", SHAPES.values(), ids=SHAPES.keys())
def test_one_400_then_the_connection_is_closed(served: ServedProcess, request_bytes: bytes) -> None:
    sock = connect(served.port)
    sock.sendall(request_bytes)
    data, closed = read_until_closed(sock, 5)
    assert data.count(b"HTTP/1.1 ") == 1, data
    assert parse_head(data)[0] == 400
    assert closed


def test_serve_always_parses_with_httptools() -> None:
    config = build_config(ServerSettings(), host="127.0.0.1", port=0, workers=1, reload=False)
    assert isinstance(config.http, str)
    assert issubclass(import_from_string(config.http), HttpToolsProtocol)
