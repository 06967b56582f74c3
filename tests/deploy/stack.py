"""nginx in front of two real `example-service serve` instances sharing PostgreSQL (and Redis).

Each instance can be stopped (SIGTERM, waited for) and started again on its port, as a rolling
restart does. The instances trust exactly nginx's address (127.0.0.1, where it connects from);
clients of the tests connect from other loopback addresses (127.0.0.5, ...) so that the app
can tell the real client from the proxy, as it would across a network.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.contract.test_schemathesis import SERVER_ENV
from tests.deploy.nginx import Nginx
from tests.identity import PASSWORD
from tests.servers import PROJECT_PREFIXES, ServedProcess, free_port, serve_process

PROXY = "127.0.0.1"  # where nginx connects to the instances from


class Instance:
    """One app instance on a fixed port, restartable."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._running: contextlib.ExitStack | None = None
        self.served: ServedProcess | None = None

    def start(self) -> None:
        stack = contextlib.ExitStack()
        self.served = stack.enter_context(serve_process(self.cwd, self.env, port=self.port))
        self._running = stack

    def stop(self) -> int | None:
        """SIGTERM, and wait until it exits (within its graceful shutdown); its exit code."""
        code = None
        if self._running is not None:
            self._running.close()  # terminates and waits
            assert self.served is not None
            code = self.served.process.returncode
            self._running = None
        return code


class Stack:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.env = env
        self.instances = [Instance(cwd, env), Instance(cwd, env)]
        self.nginx = Nginx([f"127.0.0.1:{i.port}" for i in self.instances])
        self.base = self.nginx.base

    def start(self) -> None:
        for instance in self.instances:
            instance.start()
        self.nginx.start()

    def stop(self) -> None:
        self.nginx.stop()
        for instance in self.instances:
            instance.stop()

    def upstreams(self) -> set[str]:
        """The instances' addresses, as nginx's access log names them."""
        return {f"127.0.0.1:{i.port}" for i in self.instances}


def app_env(database_url: str, **overrides: str) -> dict[str, str]:
    return {
        **SERVER_ENV,
        "DATABASE_URL": database_url,
        "SECURITY_TRUSTED_PROXIES": PROXY,
        **overrides,
    }


def clean_environ() -> dict[str, str]:
    """This process's environment without the service's own variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}


def create_admin(env: dict[str, str], email: str) -> None:
    """An administrator through the CLI, as an operator would create one."""
    subprocess.run(
        [sys.executable, "-m", "example_service", "users", "create-admin", "--email", email],
        env={**clean_environ(), **env, "ADMIN_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )


def client_from(address: str, timeout: float = 10.0) -> httpx.Client:
    """A client whose connections come from `address` (a loopback address other than nginx's)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=timeout)


def login(client: httpx.Client, base: str, email: str) -> str:
    """Register `email` (if new) and log in; the access token."""
    account = {"email": email, "password": PASSWORD}
    created = client.post(f"{base}/api/v1/users", json=account)
    assert created.status_code in (201, 409), created.text
    logged_in = client.post(f"{base}/api/v1/auth/login", json=account)
    assert logged_in.status_code == 200, logged_in.text
    return str(logged_in.json()["access_token"])
