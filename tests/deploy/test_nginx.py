"""deploy/nginx/nginx.conf run by a real nginx in front of two real app instances that share
PostgreSQL (and Redis): the client the app sees, the rate limit keyed on the real client (with
Redis: global across instances), a rolling restart under load, revocation across instances,
and the Locust mix."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from example_service.db.migrate import alembic_config, upgrade
from example_service.settings import SecuritySettings
from tests.deploy.nginx import CONF, ROOT, Nginx, render
from tests.deploy.stack import Stack, app_env, clean_environ, client_from, create_admin, login
from tests.identity import PASSWORD
from tests.servers import PostgresServer, RedisServer, free_port, start_redis

LIMIT = 7  # the limited stack's global rate limit per client address
ADMIN = "admin@example.com"
FAIL_TIMEOUT = 2.0  # the conf's `fail_timeout`: how long nginx sets a failed instance aside


@pytest.fixture(scope="module")
def database(postgres_server: PostgresServer) -> Iterator[str]:
    name = f"nginx_{free_port()}"
    postgres_server.psql(f'CREATE DATABASE "{name}"')
    url = postgres_server.url(name)
    upgrade(alembic_config(url))
    try:
        yield url
    finally:
        postgres_server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# part: redis
@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


# end part: redis
@pytest.fixture(scope="module")
def shared(request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings of what the instances share besides the database."""
    env: dict[str, str] = {}
    # part: redis
    env["REDIS_URL"] = request.getfixturevalue("redis").url
    # end part: redis
    return env


def _stack(cwd: Path, env: dict[str, str]) -> Iterator[Stack]:
    stack = Stack(cwd, env)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def stack(
    database: str, shared: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The stack with limits too high to refuse anything the tests send."""
    env = app_env(database, **shared)
    create_admin(env, ADMIN)
    yield from _stack(tmp_path_factory.mktemp("stack"), env)


@pytest.fixture(scope="module")
def limited(
    database: str, shared: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The stack with a global limit of LIMIT requests an hour per client (with Redis: counted
    there, once for both instances)."""
    env = app_env(
        database,
        **shared,
        RATE_LIMIT_REQUESTS=str(LIMIT),
        RATE_LIMIT_WINDOW_SECONDS="3600",
        RATE_LIMIT_BURST="0",
        RATE_LIMIT_PREFIX="rl-limited:",
    )
    yield from _stack(tmp_path_factory.mktemp("limited"), env)


def _size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def test_the_body_limit_is_the_apps() -> None:
    found = re.findall(r"^\s*client_max_body_size (\S+);", CONF.read_text(), re.MULTILINE)
    assert len(found) == 1
    assert _size(found[0]) == SecuritySettings.model_fields["max_request_size"].default


def test_rendering_replaces_exactly_the_upstream_and_the_port() -> None:
    conf = CONF.read_text()
    rendered = render(conf, ["127.0.0.1:1", "127.0.0.1:2"], 9)
    assert "server 127.0.0.1:1 max_fails=1 fail_timeout=2s;" in rendered
    assert "server 127.0.0.1:2 max_fails=1 fail_timeout=2s;" in rendered
    assert not re.search(r"^\s*server app:8000", rendered, re.MULTILINE)
    assert "listen 127.0.0.1:9;" in rendered
    assert len(rendered.splitlines()) == len(conf.splitlines()) + 1
    with pytest.raises(ValueError, match="server app:8000"):
        render(conf.replace("server app:8000", "server other:8000"), ["127.0.0.1:1"], 9)


def test_request_ids_are_passed_through_or_generated(stack: Stack) -> None:
    before = len(stack.nginx.log_lines())
    with client_from("127.0.0.5") as client:
        given = client.get(f"{stack.base}/health", headers={"X-Request-ID": "given-id-42"})
        generated = client.get(f"{stack.base}/health")
        # One the app would refuse (it could split a log line): replaced, not passed on.
        unsafe = client.get(f"{stack.base}/health", headers={"X-Request-ID": 'x" y'})
    assert given.status_code == generated.status_code == unsafe.status_code == 200
    assert given.headers["x-request-id"] == "given-id-42"
    ids = [generated.headers["x-request-id"], unsafe.headers["x-request-id"]]
    for request_id in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, kept by the app
    lines = stack.nginx.log_lines(at_least=before + 3)[before:]
    assert [line.rsplit("request_id=", 1)[1] for line in lines] == ["given-id-42", *ids]


def test_a_body_over_the_limit_is_refused_by_nginx(stack: Stack) -> None:
    limit = SecuritySettings.model_fields["max_request_size"].default
    headers = {"Content-Type": "application/json", "X-Request-ID": "big-body-1"}
    with client_from("127.0.0.5") as client:
        over = client.post(
            f"{stack.base}/api/v1/users", content=b"x" * (limit + 1), headers=headers
        )
        at = client.post(f"{stack.base}/api/v1/users", content=b"x" * limit, headers=headers)
    assert over.status_code == 413
    assert over.headers["server"] == "nginx"  # refused before any instance read it
    assert over.headers["content-type"] == "application/problem+json"  # the app's contract
    assert over.json()["code"] == "payload_too_large"
    assert over.json()["request_id"] == over.headers["x-request-id"] == "big-body-1"
    assert at.status_code == 422  # reached the app, which found no JSON in it
    assert at.headers["content-type"] == "application/problem+json"


def test_no_instance_answering_is_a_problem_503() -> None:
    nginx = Nginx([f"127.0.0.1:{free_port()}"])  # nothing listens there
    try:
        nginx.start()
        response = httpx.get(f"{nginx.base}/api/v1/info")
    finally:
        nginx.stop()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["request_id"] == response.headers["x-request-id"]


def _allowed(client: httpx.Client, url: str, count: int, spoof: bool = True) -> int:
    """How many of `count` requests the rate limiter let through; each claims another
    X-Forwarded-For, as a client pretending to be behind a further proxy would."""
    statuses = Counter()
    for n in range(count):
        headers = {"X-Forwarded-For": f"198.51.100.{n + 1}"} if spoof else {}
        statuses[client.get(url, headers=headers).status_code] += 1
    assert set(statuses) <= {200, 429}, statuses
    return statuses[200]


# part: redis
def test_the_global_limit_is_exact_across_instances_and_keyed_on_the_real_client(
    limited: Stack,
) -> None:
    url = f"{limited.base}/api/v1/info"
    before = len(limited.nginx.log_lines())
    with client_from("127.0.0.5") as first, client_from("127.0.0.6") as second:
        # Spread over both instances by nginx, counted once in Redis: exactly LIMIT, not 2x.
        assert _allowed(first, url, 3 * LIMIT) == LIMIT
        # Another client has its own count: the key is the client, not nginx nor the claim.
        assert _allowed(second, url, 2 * LIMIT) == LIMIT
    lines = limited.nginx.log_lines(at_least=before + 5 * LIMIT)[before:]
    assert len(lines) == 5 * LIMIT
    served = {m.group(1) for line in lines if (m := re.search(r"upstream=(\S+)", line))}
    assert served == limited.upstreams()  # both instances answered
    assert all(line.startswith(("127.0.0.5 ", "127.0.0.6 ")) for line in lines)


# end part: redis


def test_the_instances_believe_forwarded_headers_from_nginx_only(limited: Stack) -> None:
    # Straight to an instance from an address that is not the proxy's: X-Forwarded-For is
    # the client's own claim and ignored, so the spoofed addresses share one bucket.
    direct = limited.instances[0]
    with client_from("127.0.0.7") as client:
        assert _allowed(client, f"{direct.base}/api/v1/info", 2 * LIMIT) == LIMIT


def _me(client: httpx.Client, base: str, token: str) -> int:
    return client.get(
        f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
    ).status_code


def test_logout_changes_and_deactivation_through_nginx_hold_on_every_instance(stack: Stack) -> None:
    everywhere = [stack.base, stack.base, *(i.base for i in stack.instances)]
    with client_from("127.0.0.5") as client:
        token = login(client, stack.base, f"leaving-{uuid.uuid4().hex[:8]}@example.com")
        assert [_me(client, base, token) for base in everywhere] == [200] * 4  # all cached
        logout = client.post(
            f"{stack.base}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
        )
        assert logout.status_code == 204
        assert [_me(client, base, token) for base in everywhere] == [401] * 4

        email = f"deactivated-{uuid.uuid4().hex[:8]}@example.com"
        token = login(client, stack.base, email)
        user_id = client.get(
            f"{stack.base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        ).json()["id"]
        assert [_me(client, base, token) for base in everywhere] == [200] * 4
        # A change through nginx: every instance serves the new state, none its cached copy.
        renamed = client.patch(
            f"{stack.base}/api/v1/users/{user_id}",
            headers={"Authorization": f"Bearer {token}"},
            json={"full_name": "Renamed"},
        )
        assert renamed.status_code == 200, renamed.text
        for base in everywhere:
            me = client.get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
            assert me.json()["full_name"] == "Renamed"
        admin = login(client, stack.base, ADMIN)
        deactivated = client.patch(
            f"{stack.base}/api/v1/users/{user_id}",
            headers={"Authorization": f"Bearer {admin}"},
            json={"is_active": False},
        )
        assert deactivated.status_code == 200, deactivated.text
        assert [_me(client, base, token) for base in everywhere] == [401] * 4


class Load:
    """Threads sending idempotent requests through nginx until stopped; every outcome counted
    (a status, or the name of the transport error)."""

    def __init__(self, base: str, token: str, threads: int = 4) -> None:
        self.base = base
        self.token = token
        self.outcomes: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(n,)) for n in range(threads)]

    def _loop(self, n: int) -> None:
        auth = {"Authorization": f"Bearer {self.token}"}
        with client_from(f"127.0.0.{10 + n}") as client:
            while not self.stopping.is_set():
                try:
                    status = str(client.get(f"{self.base}/health").status_code)
                    me = client.get(f"{self.base}/api/v1/users/me", headers=auth)
                    outcome = [status, str(me.status_code)]
                except httpx.HTTPError as exc:
                    outcome = [type(exc).__name__]
                with self.lock:
                    self.outcomes.update(outcome)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


def test_a_rolling_restart_under_load_fails_no_request(stack: Stack) -> None:
    with client_from("127.0.0.5") as client:
        token = login(client, stack.base, f"steady-{uuid.uuid4().hex[:8]}@example.com")
    before = len(stack.nginx.log_lines())
    with Load(stack.base, token) as load:
        for instance in stack.instances:
            # SIGTERM, waited for: uvicorn ends by re-raising the signal once it has drained.
            assert instance.stop() in (0, -signal.SIGTERM)
            instance.start()  # same port; returns once it answers /health
            # nginx takes a failed instance back once fail_timeout has passed.
            threading.Event().wait(FAIL_TIMEOUT + 1)
    assert set(load.outcomes) == {"200"}, load.outcomes
    assert load.outcomes["200"] > 100
    # nginx retried what the stopping instances refused: both were tried and both answered.
    lines = stack.nginx.log_lines(at_least=before + load.outcomes.total())[before:]
    assert any(re.search(r"upstream=\S+, \S+ upstream_status=\S+, 200 ", line) for line in lines)


def test_the_locust_mix_runs_without_failures(stack: Stack, tmp_path: Path) -> None:
    csv = tmp_path / "locust"
    env = {
        **clean_environ(),
        "LOCUST_ADMIN_EMAIL": ADMIN,
        "LOCUST_ADMIN_PASSWORD": PASSWORD,
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--host",
            stack.base,
            "--users",
            "4",
            "--spawn-rate",
            "4",
            "--run-time",
            "10s",
            "--stop-timeout",
            "5",
            "--csv",
            str(csv),
            "--exit-code-on-error",
            "1",
            "--only-summary",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rows = (tmp_path / "locust_stats.csv").read_text().splitlines()
    total = next(r for r in rows if ",Aggregated," in r).split(",")
    header = rows[0].split(",")
    assert int(total[header.index("Failure Count")]) == 0
    assert int(total[header.index("Request Count")]) > 50
    names = {r.split(",")[1] for r in rows[1:]}
    assert {"login", "me", "update own", "refresh", "list users"} <= names
