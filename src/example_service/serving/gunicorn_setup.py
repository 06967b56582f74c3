"""gunicorn's settings and server hooks from the service's settings (deploy/gunicorn.conf.py).

Settings: the worker class (gunicorn_worker.py), the worker count (SERVER_WORKERS), keep-alive
and the worker heartbeat from the SERVER_* settings, and a graceful_timeout a little longer than
SERVER_GRACEFUL_SHUTDOWN_SECONDS: the workers drain for that long, then end their lifespans,
and the arbiter kills a worker only if it is still there after the margin.

On SIGTERM the arbiter closes its listening sockets first and each worker closes its own as it
starts draining, so a new connection is refused at once; in-flight requests finish (up to the
drain), and the arbiter exits 0.

Hooks, in the arbiter: `on_starting` (before it binds or forks) refuses what several workers
cannot serve (serving/workers.py) and a schema behind the code (db/schema.py; a local SQLite
file is upgraded there, once), and with TELEMETRY_MODE=prometheus sets PROMETHEUS_MULTIPROC_DIR
before any worker imports prometheus-client, as `serve --workers N` does
(observability/multiprocess.py); `child_exit` marks a dead worker's files so its live gauges
leave the sums; `on_exit` removes the directory if it made it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from example_service.settings import Settings

WORKER_CLASS = "example_service.serving.gunicorn_worker.Worker"
# The factory, called by gunicorn in each worker (the "()" suffix).
APP = "example_service.app:create_app()"
# Beyond the drain: the lifespan's shutdown (closing pools and clients) before a SIGKILL.
SHUTDOWN_MARGIN_SECONDS = 5


@dataclass
class GunicornSetup:
    settings: Settings
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @classmethod
    def load(cls) -> GunicornSetup:
        settings = Settings.load()
        settings.check()  # a SettingsError stops gunicorn before it binds
        return cls(settings)

    def options(self) -> dict[str, Any]:
        """gunicorn settings, by their names in a config file."""
        server = self.settings.server
        return {
            "wsgi_app": APP,
            "worker_class": WORKER_CLASS,
            "workers": server.workers,
            "keepalive": server.keep_alive_seconds,
            "graceful_timeout": server.graceful_shutdown_seconds + SHUTDOWN_MARGIN_SECONDS,
            # A worker silent for this long (its event loop blocked) is killed and replaced.
            "timeout": server.worker_healthcheck_seconds,
            "accesslog": None,  # the app writes its own access log
        }

    def on_starting(self, arbiter: Any) -> None:
        # Raised as RuntimeError: gunicorn prints "Error: <message>" and exits 1.
        from example_service.db.schema import preflight  # noqa: PLC0415
        from example_service.serving.workers import refusal  # noqa: PLC0415

        refused = refusal(self.settings, int(arbiter.num_workers))
        if refused is not None:
            raise RuntimeError(refused)
        if self.settings.telemetry.mode == "prometheus":
            # Always, even for one worker: gunicorn replaces workers (timeouts, max-requests),
            # and a scrape must sum the old worker's counters with the new one's.
            from example_service.observability import multiprocess  # noqa: PLC0415

            self._stack.enter_context(multiprocess.directory())
        refused = preflight(self.settings)
        if refused is not None:
            raise RuntimeError(refused)

    def child_exit(self, _arbiter: Any, worker: Any) -> None:
        from example_service.observability import multiprocess  # noqa: PLC0415

        if multiprocess.enabled():
            from prometheus_client.multiprocess import mark_process_dead  # noqa: PLC0415

            mark_process_dead(worker.pid)  # type: ignore[no-untyped-call] # untyped upstream

    def on_exit(self, _arbiter: Any) -> None:
        self._stack.close()
