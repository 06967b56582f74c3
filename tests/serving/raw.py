"""HTTP/1.1 over a raw socket: what a slow or malformed client does, and what it gets back."""

from __future__ import annotations

import contextlib
import select
import socket
import time


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed (EOF or reset); never blocks, never consumes data."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def send_quietly(sock: socket.socket, data: bytes) -> None:
    """Send, ignoring a connection the server has already closed."""
    with contextlib.suppress(OSError):
        sock.sendall(data)


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, bool]:
    """Everything the server sends within `timeout`, and whether it then closed the connection."""
    data = b""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return data, False
        except OSError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def parse_head(data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (names lower-cased) and what follows the head."""
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, rest


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response with a Content-Length body: status, headers, body."""
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-response: {data!r}"
        data += chunk
    status, headers, body = parse_head(data)
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return status, headers, body[:length]


def try_request(port: int) -> str:
    """What a new client meets: `refused`, `served` (any response), `closed` without one (a reset:
    it reached the backlog just before the last copy of the listening socket closed), or `left
    waiting` (no answer and no close within 2 s: the defect)."""
    try:
        sock = connect(port)
    except ConnectionRefusedError:
        return "refused"
    send_quietly(sock, b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    data, closed = read_until_closed(sock, 2.0)
    sock.close()
    if data.startswith(b"HTTP/1.1 "):
        return "served"
    return "closed" if closed else "left waiting"
