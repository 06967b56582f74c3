"""Run the app factory under uvicorn with the service's protocol, deadlines and supervisor.

`uvicorn.run` builds its own Config and supervisor, so this does its dispatch (reload, several
workers, one) with ours instead.
"""

from __future__ import annotations

import sys

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import ChangeReload

from example_service.serving.config import ServiceConfig
from example_service.serving.supervisor import Supervisor
from example_service.settings import ServerSettings

APP = "example_service.app:create_app"


def build_config(
    server: ServerSettings, *, host: str, port: int, workers: int, reload: bool
) -> ServiceConfig:
    return ServiceConfig(
        APP,
        header_timeout=server.header_timeout_seconds,
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        timeout_keep_alive=server.keep_alive_seconds,
        timeout_graceful_shutdown=server.graceful_shutdown_seconds,
        timeout_worker_healthcheck=server.worker_healthcheck_seconds,
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,  # client addresses are resolved by our proxy-headers middleware
    )


def run(config: ServiceConfig) -> None:
    server = uvicorn.Server(config)
    try:
        if config.should_reload:
            ChangeReload(config, target=server.run, sockets=[config.bind_socket()]).run()
        elif config.workers > 1:
            Supervisor(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    if not server.started and not config.should_reload and config.workers == 1:
        sys.exit(STARTUP_FAILURE)
