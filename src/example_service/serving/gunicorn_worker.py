"""gunicorn's Uvicorn worker, serving with `serve`'s protocol and deadlines.

`uvicorn_worker.UvicornWorker` builds a plain uvicorn Config (httptools or h11, no request-head
deadline). This one rebuilds it as a ServiceConfig: the HeadDeadlineProtocol closes a
connection whose request head is not complete within SERVER_HEADER_TIMEOUT_SECONDS (a
slowloris client holds nothing for longer), and the body deadline stays in the ASGI layer as
under `serve`. What gunicorn configures (keep-alive, its heartbeat, max-requests, TLS, backlog)
is carried over from the base class's Config; the drain on SIGTERM is
SERVER_GRACEFUL_SHUTDOWN_SECONDS, inside the arbiter's longer graceful_timeout (see
gunicorn_setup.py) so a worker ends its lifespan before the arbiter would kill it.
"""

from __future__ import annotations

from typing import Any

import uvicorn
from uvicorn_worker import UvicornWorker

from example_service.serving.config import ServiceConfig
from example_service.serving.run import APP
from example_service.settings import Settings

# Read from the base Config as gunicorn set them; anything else is ours.
_CARRIED = (
    "loop",
    "timeout_keep_alive",
    "timeout_notify",
    "callback_notify",
    "limit_max_requests",
    "backlog",
    "ssl_keyfile",
    "ssl_certfile",
    "ssl_keyfile_password",
    "ssl_version",
    "ssl_cert_reqs",
    "ssl_ca_certs",
    "ssl_ciphers",
)


class Worker(UvicornWorker):  # type: ignore[misc] # untyped upstream
    config: uvicorn.Config

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The worker is a process's entry point, as `serve` is: it reads the SERVER_* settings
        # the app factory will read again.
        server = Settings.load().server
        base = self.config
        self.config = ServiceConfig(
            APP,  # replaced by the loaded app when the worker starts serving
            header_timeout=server.header_timeout_seconds,
            timeout_graceful_shutdown=server.graceful_shutdown_seconds,
            log_config=None,
            access_log=False,  # the app writes its own
            server_header=False,
            proxy_headers=False,  # client addresses are resolved by our proxy-headers middleware
            **{name: getattr(base, name) for name in _CARRIED},
        )
