"""Real PostgreSQL (and Redis) servers for the tests, started and stopped by the test setup.

Where a binary is missing the tests that need it skip, saying what to install; with
REQUIRE_SERVICES=1 (set by .ci/run) they fail instead, so CI always exercises real servers.
PostgreSQL's initdb refuses to run as root: as root the cluster runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from example_service.redis.client import RedisLayer, create_redis
from example_service.settings import RedisSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing(what: str, install: str) -> None:
    message = f"{what} not found; install it ({install}) to run these tests"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message + " [REQUIRE_SERVICES=1]")
    pytest.skip(message)


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def pg_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for directory in [*reversed(candidates), *([str(Path(found).parent)] if found else [])]:
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    return None


class PostgresServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pg-test-"))
        self.datadir = self.root / "data"
        self.as_user: str | None = None
        if os.geteuid() == 0:
            self.as_user = "postgres"
            user = pwd.getpwnam(self.as_user)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root)

    def start(self, *settings: str) -> None:
        """Start the server; `settings` are extra `name=value` server settings."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        options += "".join(f" -c {setting}" for setting in settings)
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-o",
            options,
            "-w",
            "-l",
            str(self.root / "log"),
            "start",
        )
        _wait_port(self.port)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: "fast" (clients disconnected), or "immediate" (as if it crashed)."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
        )

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


# part: redis
class RedisServer:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


# end part: redis


def faketime_env(offset: str) -> dict[str, str]:
    """Environment that runs a process with its wall clock `offset` (e.g. "+30s") from the real
    one, through libfaketime (a preloaded library: only for processes started with it).

    An offset, not a "start at" time: every process started with it (children included) keeps
    the same skew, so FAKETIME_DONT_RESET does not matter. The monotonic clock is shifted by
    the same constant, which asyncio cannot tell from the real one; FAKETIME_DONT_FAKE_MONOTONIC
    would be more faithful, but with it libfaketime 0.9.10 makes `time.sleep` fail with EINVAL.
    (Redis itself cannot run under libfaketime: its jemalloc recurses into clock_gettime.)
    """
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    found += glob.glob("/usr/local/lib/faketime/libfaketime.so.1")
    if not found:
        _missing("libfaketime", "apt-get install libfaketime")
    return {"LD_PRELOAD": found[0], "FAKETIME": offset}


def start_postgres(*settings: str) -> PostgresServer:
    bindir = pg_bindir()
    if bindir is None:
        _missing("PostgreSQL (initdb, pg_ctl)", "apt-get install postgresql")
    server = PostgresServer(bindir)  # type: ignore[arg-type]
    server.start(*settings)
    return server


# part: redis
def start_redis() -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("redis-server", "apt-get install redis-server")
    server = RedisServer(binary)  # type: ignore[arg-type]
    server.start()
    return server


# end part: redis


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One cluster for the session; tests get their own database (see `postgres_url`)."""
    server = start_postgres()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"t_{abs(hash(request.node.nodeid)) % 10**10}_{free_port()}"
    postgres_server.psql(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A private cluster for tests that stop and restart the server."""
    server = start_postgres()
    try:
        yield server
    finally:
        server.destroy()


# part: redis
@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A private server for tests that stop and restart Redis."""
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


# end part: redis


# The environment prefixes of the service's own settings: stripped so no developer value leaks in.
PROJECT_PREFIXES = (
    "APP_",
    "LOG_",
    "DATABASE_",
    # part: redis
    "REDIS_",
    # end part: redis
    "RATE_LIMIT_",
    "CACHE_",
    "TELEMETRY_",
    "SECURITY_",
    "SERVER_",
    "OUTBOUND_",
    "RESILIENCE_",
    # part: tasks
    "TASKS_",
    "EMAIL_",
    # end part: tasks
)


class ServedProcess:
    """A running `example-service serve`: its process and where it listens."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.base = f"http://127.0.0.1:{port}"


def wait_until_healthy(process: subprocess.Popen[bytes], base: str, timeout: float = 30.0) -> bool:
    """Whether the server at `base` answered /health before `timeout` (False: it exited or
    never answered)."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return True
        time.sleep(0.1)
    return False


@contextlib.contextmanager
def serve_process(
    cwd: Path,
    env: dict[str, str],
    args: Sequence[str] = (),
    timeout: float = 30.0,
    port: int | None = None,
) -> Iterator[ServedProcess]:
    """`example-service serve [args]` as a real process on `port` (a free one when None), once
    it answers.

    The environment is this process's without the service's own variables, plus `env`.
    """
    port = port or free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}
    process = subprocess.Popen(
        [sys.executable, "-m", "example_service", "serve", "--port", str(port), *args],
        cwd=cwd,
        env={**clean, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: workers included in a forced stop
    )
    with supervised(process, port, timeout, stop_within=10.0) as served:
        yield served


@contextlib.contextmanager
def supervised(
    process: subprocess.Popen[bytes],
    port: int,
    timeout: float,
    stop_within: float,
    log: Path | None = None,
) -> Iterator[ServedProcess]:
    """`process` (in a session of its own), once it answers on `port`; killed with its group
    when it does not within `timeout` (the error holds its stderr: its pipe, or the `log` file
    it writes), stopped with SIGTERM on the way out, and failing the test if that takes over
    `stop_within` seconds."""
    served = ServedProcess(process, port)
    try:
        if not wait_until_healthy(process, served.base, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            _, err = process.communicate(timeout=5)
            output = log.read_bytes() if log is not None else err
            raise RuntimeError(f"server did not start: {output.decode(errors='replace')}")
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=stop_within)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise


@contextlib.contextmanager
def served_app(cwd: Path, env: dict[str, str], timeout: float = 30.0) -> Iterator[str]:
    """`example-service serve` as a real process on a free port; yields its base URL."""
    with serve_process(cwd, env, timeout=timeout) as served:
        yield served.base


# part: redis
@pytest.fixture
async def redis_layer(redis_server: RedisServer) -> AsyncIterator[RedisLayer]:
    """The service's Redis layer connected to the session's server."""
    layer = create_redis(RedisSettings(url=redis_server.url))
    assert layer is not None
    try:
        yield layer
    finally:
        await layer.aclose()


# end part: redis
