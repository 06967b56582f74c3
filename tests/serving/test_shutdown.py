"""Shutdown against real `serve` processes: bounded by SERVER_GRACEFUL_SHUTDOWN_SECONDS, and a
connection opened while workers drain is refused or served, never left waiting."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.servers import serve_process
from tests.serving.raw import (
    connect,
    read_until_closed,
    send_quietly,
    try_request,
)

PATIENCE = 6.0  # longer than the grace periods below: a server that ignores them is caught
# A body that never ends: its bytes keep coming, so no body deadline ends it either.
ENDLESS_BODY = (
    b"POST /api/v1/auth/refresh HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
    b'Content-Length: 100000\r\n\r\n{"refresh_token": "'
)


def _env(tmp_path: Path, grace: int) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/app.db",
        "LOG_LEVEL": "WARNING",
        "SERVER_GRACEFUL_SHUTDOWN_SECONDS": str(grace),
    }


def test_sigterm_ends_a_trickling_request_after_the_grace_period(tmp_path: Path) -> None:
    with serve_process(tmp_path, _env(tmp_path, grace=1)) as served:
        sock = connect(served.port)
        sock.sendall(ENDLESS_BODY)
        served.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        while time.monotonic() - started < PATIENCE and served.process.poll() is None:
            send_quietly(sock, b"x")
            time.sleep(0.1)
        assert served.process.poll() is not None, "still waiting for a client that never ends"
        _, closed = read_until_closed(sock, 1.0)
        assert closed


def test_a_connection_opened_while_workers_drain_is_not_left_waiting(tmp_path: Path) -> None:
    grace = 5
    with serve_process(tmp_path, _env(tmp_path, grace), ["--workers", "2"]) as served:
        draining = connect(served.port)
        draining.sendall(ENDLESS_BODY)  # keeps its worker draining for the whole grace period
        served.process.send_signal(signal.SIGTERM)
        # The supervisor reads signals every 0.5 s; its workers start shutting down within 0.1 s.
        time.sleep(1.5)
        assert served.process.poll() is None, "the drain should still be under way"
        assert try_request(served.port) in ("refused", "closed", "served")
        draining.close()  # the drain can end now
