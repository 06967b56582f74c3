"""Slow clients against a real `serve` process: the request head and body have deadlines.

Deadlines of one second (SERVER_HEADER_TIMEOUT_SECONDS, SERVER_BODY_TIMEOUT_SECONDS) keep these
tests short; each client goes on trickling for several times that, so a server without the
deadline fails the test instead of passing it slowly. They also show that uvicorn still calls
the protocol callbacks the head deadline relies on (see serving/protocol.py).
"""

from __future__ import annotations

import time

import orjson

from tests.servers import ServedProcess
from tests.serving.conftest import DEADLINE
from tests.serving.raw import (
    closed_by_server,
    connect,
    parse_head,
    read_response,
    read_until_closed,
    send_quietly,
)

# Long enough for a server without the deadline to be caught, and for the sweeper's interval.
PATIENCE = 6.0
HEAD = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Padding: " + b"p" * 200 + b"\r\n\r\n"


def test_a_trickled_head_and_a_silent_connection_are_closed(served: ServedProcess) -> None:
    trickling = connect(served.port)
    silent = connect(served.port)
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < PATIENCE and not (
        closed_by_server(trickling) and closed_by_server(silent)
    ):
        send_quietly(trickling, HEAD[sent : sent + 1])  # one byte at a time, never the end
        sent += 1
        time.sleep(0.1)
    assert closed_by_server(trickling), f"still open after {sent} header bytes"
    assert closed_by_server(silent)


def test_each_head_on_a_kept_alive_connection_has_its_own_deadline(
    served: ServedProcess,
) -> None:
    sock = connect(served.port)
    sock.sendall(HEAD)
    assert read_response(sock)[0] == 200
    # Idle between requests for longer than the head deadline, within keep-alive: the deadline
    # ended with the first head (a server that kept counting would have closed by now).
    time.sleep(DEADLINE * 1.5)
    assert not closed_by_server(sock)
    sock.sendall(HEAD)
    assert read_response(sock)[0] == 200
    # The next head starts with its first byte, and is then held to the deadline.
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < PATIENCE and not closed_by_server(sock):
        send_quietly(sock, HEAD[sent : sent + 1])
        sent += 1
        time.sleep(0.1)
    assert closed_by_server(sock), f"still open after {sent} header bytes"


def test_a_stalled_body_is_answered_408_and_the_connection_closed(
    served: ServedProcess,
) -> None:
    sock = connect(served.port)
    sock.sendall(
        b"POST /api/v1/auth/refresh HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"refresh_token": "'
    )
    data, closed = read_until_closed(sock, PATIENCE)
    assert data, "no answer"
    status, headers, body = parse_head(data)
    assert status == 408
    assert headers["connection"] == "close"
    assert orjson.loads(body)["code"] == "request_timeout"
    assert closed


def test_a_body_trickled_to_a_route_that_never_reads_it_is_cut(served: ServedProcess) -> None:
    sock = connect(served.port)
    sock.sendall(
        b"POST /health HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n{"
    )
    status, headers, _ = read_response(sock)
    assert status == 405
    assert headers["connection"] == "close"
    started = time.monotonic()
    while time.monotonic() - started < PATIENCE and not closed_by_server(sock):
        send_quietly(sock, b" ")
        time.sleep(0.1)
    assert closed_by_server(sock)
