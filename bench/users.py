"""The authenticated read, cached and uncached, against a bare FastAPI database read.

    python -m bench.users [--postgres | --postgres-url URL] [--method wrk|callgrind]

`GET /api/v1/users/{id}` as its owner, with the same bearer token on every request, served by

- cached: the full default stack, principals cached in-process (CACHE_AUTH=on, one worker);
- uncached: the same with CACHE_AUTH=off: the principal is read from the database each time;
# part: redis
- redis (with --redis): the default stack with REDIS_URL, so the two-level cache, principals
  read from Redis (a redis-server started for the run);
# end part: redis
- reference: bench/db_app.py, bare FastAPI reading the row by primary key (no auth, no log).

First, in-process, what each sends to the database per request: statements, commits, rollbacks
and connection checkouts as SQLAlchemy reports them, and with --postgres what the server
executed (pg_stat_statements, so BEGIN, COMMIT and ROLLBACK count as the round trips they
are). Then each server is one uvicorn worker pinned to core 0, wrk pinned to core 1, rounds
alternating (`bench.run.measure`), or instructions per request under callgrind (`--method
callgrind`, repeatable on a busy machine). SQLite always; PostgreSQL with --postgres (a
cluster started for the run, as the tests do) or --postgres-url (an empty database).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.callgrind import instructions_per_request
from bench.run import BIN, ROOT, SCENARIOS, Target, measure, start, start_redis

SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789"  # noqa: S105 - bench key
PASSWORD = "bench-password-1"  # noqa: S105 - bench account
PORT = 8710
ENGINE_EVENTS = ("before_cursor_execute", "commit", "rollback", "checkout")
# PostgreSQL counts what it executes when the cluster loads this (bench --postgres does).
STATEMENT_STATS = "shared_preload_libraries=pg_stat_statements"


def environment(database_url: str, cache_auth: str) -> dict[str, str]:
    """The service's variables, principals cached as CACHE_AUTH `cache_auth` says."""
    shared: dict[str, str] = {}
    # part: redis
    if cache_auth == "redis":  # the default (auto) with Redis
        shared, cache_auth = SCENARIOS["redis"], "auto"
    # end part: redis
    return {
        **shared,
        **SCENARIOS["default"],  # limits high enough that the rate limiter never refuses
        "DATABASE_URL": database_url,
        "LOG_FORMAT": "json",
        "SECURITY_JWT_SECRET": SECRET,
        "SECURITY_PASSWORD_HASH_MEMORY_KIB": "1024",
        "SECURITY_PASSWORD_HASH_TIME_COST": "1",
        "CACHE_AUTH": cache_auth,
        # SQLAlchemy's default, as the reference has it: under callgrind (~50x slower) a request
        # can queue for a pooled connection past the service's 5 s and get a 503.
        "DATABASE_POOL_TIMEOUT_SECONDS": "30",
    }


@contextlib.contextmanager
def environ(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def service_app(env: dict[str, str]) -> FastAPI:
    from example_service.app import create_app  # noqa: PLC0415
    from example_service.settings import Settings  # noqa: PLC0415

    with environ({**env, "LOG_LEVEL": "WARNING"}):  # in-process: no access lines on stdout
        return create_app(Settings.load())


def reference_app(database_url: str) -> FastAPI:
    from bench.db_app import create_app  # noqa: PLC0415

    with environ({"DATABASE_URL": database_url}):
        return create_app()


async def account(database_url: str) -> tuple[str, str]:
    """A user in the database and an access token for them: (user id, token)."""
    app = service_app(environment(database_url, "off"))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            body = {"email": f"bench-{os.getpid()}@example.com", "password": PASSWORD}
            created = await client.post("/api/v1/users", json=body)
            login = await client.post("/api/v1/auth/login", json=body)
    return created.json()["id"], login.json()["access_token"]


async def database_work(
    app: FastAPI, path: str, headers: dict[str, str], server: bool, requests: int = 50
) -> dict[str, float]:
    """Per request, after a warm-up: what the app's engine did, by event; with `server`, what
    PostgreSQL received, by statement (pg_stat_statements: BEGIN, COMMIT, ROLLBACK included)."""
    seen: Counter[str] = Counter()
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await _read(client, path, headers)
            engine = app.state.engine
            if server:
                await _server_statements(engine, reset=True)
            listeners = [(name, _counter(seen, name)) for name in ENGINE_EVENTS]
            for name, listener in listeners:
                event.listen(engine.sync_engine, name, listener)
            for _ in range(requests):
                await _read(client, path, headers)
            for name, listener in listeners:
                event.remove(engine.sync_engine, name, listener)
            if server:
                seen.update(await _server_statements(engine))
    return {name: count / requests for name, count in seen.items()}


async def _server_statements(engine: AsyncEngine, reset: bool = False) -> Counter[str]:
    """Calls per kind of statement PostgreSQL executed for this database (our own excluded)."""
    calls: Counter[str] = Counter()
    # Autocommit: these queries add no BEGIN or COMMIT of their own to the count.
    async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        if reset:
            await conn.execute(text("SELECT pg_stat_statements_reset()"))
        else:
            rows = await conn.execute(
                text(
                    "SELECT query, calls FROM pg_stat_statements WHERE dbid ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND query NOT LIKE '%pg_stat_statements%'"
                )
            )
            for query, count in rows:
                calls["server " + query.split()[0].upper()] += count
    return calls


async def _read(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> None:
    response = await client.get(path, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.text}")


def _counter(seen: Counter[str], name: str) -> Any:
    def count(*_: Any) -> None:
        seen[name] += 1

    return count


def targets(database_url: str, user_id: str, token: str, variants: list[str]) -> list[Target]:
    path = f"/api/v1/users/{user_id}"
    auth = [f"Authorization: Bearer {token}"]
    # No access log: the strict reference, as bench.run's `bare`.
    command = [str(BIN / "uvicorn"), "bench.db_app:create_app", "--factory", "--no-access-log"]
    reference = Target(
        "reference",
        [*command, "--port", "8700"],
        path,
        port=8700,
        env={"DATABASE_URL": database_url},
    )
    served = [
        Target(
            name,
            [str(BIN / "example-service"), "serve", "--port", str(port)],
            path,
            port=port,
            env=environment(database_url, cache_auth),
            headers=auth,
        )
        for port, (name, cache_auth) in enumerate(variants_of(variants), start=8701)
    ]
    return [reference, *served]


def variants_of(names: list[str]) -> list[tuple[str, str]]:
    """(name, CACHE_AUTH) of the service's variants."""
    cache_auth = {"uncached": "off", "cached": "on"}
    # part: redis
    cache_auth["redis"] = "redis"
    # end part: redis
    return [(name, cache_auth[name]) for name in names]


def run(database_url: str, args: argparse.Namespace) -> None:
    subprocess.run(
        [str(BIN / "example-service"), "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )
    user_id, token = asyncio.run(account(database_url))
    path, headers = f"/api/v1/users/{user_id}", {"Authorization": f"Bearer {token}"}
    print("database work per request (SQLAlchemy events; PostgreSQL's count where it has one):")
    apps = [("reference", reference_app(database_url), {})]
    for name, cache_auth in variants_of(args.variants):
        apps.append((name, service_app(environment(database_url, cache_auth)), headers))
    for name, app, sent in apps:
        work = asyncio.run(database_work(app, path, sent, server=args.server_statements))
        print(f"  {name:>9}: " + ", ".join(f"{e} {n:.2f}" for e, n in sorted(work.items())))
    servers = targets(database_url, user_id, token, args.variants)
    if args.method == "callgrind":
        counts = {
            t.name: instructions_per_request(
                t, PORT, args.callgrind_seconds, args.connections, start
            )
            for t in servers
        }
        for name, count in counts.items():
            print(f"  {name:>9}: {count:10.0f} instructions/request")
        for name in args.variants[1:]:
            print(f"{name} / uncached (instructions): {counts['uncached'] / counts[name]:.2f}x")
        print(
            f"uncached / reference (instructions): {counts['reference'] / counts['uncached']:.3f}"
        )
        return
    results = measure(servers, args.rounds, args.seconds, args.connections)
    rps = {name: statistics.median(r.rps for r in rows) for name, rows in results.items()}
    cpu = {name: statistics.median(r.cpu_us for r in rows) for name, rows in results.items()}
    for name, value in rps.items():
        print(f"  {name:>9}: median {value:8.0f} req/s  cpu {cpu[name]:6.1f} us/request")
    for name in args.variants[1:]:
        print(
            f"{name} / uncached: req/s {rps[name] / rps['uncached']:.2f}x,"
            f" by CPU per request {cpu['uncached'] / cpu[name]:.2f}x"
        )
    print(
        f"uncached / reference: req/s {rps['uncached'] / rps['reference']:.3f},"
        f" by CPU per request {cpu['reference'] / cpu['uncached']:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also on a cluster started here")
    parser.add_argument("--postgres-url", help="also on this (empty) database")
    # part: redis
    parser.add_argument("--redis", action="store_true", help="also cached on Redis (two-level)")
    # end part: redis
    parser.add_argument("--method", choices=["wrk", "callgrind"], default="wrk")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--callgrind-seconds", type=int, default=15)
    args = parser.parse_args()
    args.server_statements = False  # SQLite has no server; a given URL may lack the extension
    args.variants = ["uncached", "cached"]
    beside: subprocess.Popen[bytes] | None = None  # a server a variant needs
    # part: redis
    if args.redis:
        args.variants.append("redis")
        beside = start_redis()
    # end part: redis
    try:
        databases(args)
    finally:
        if beside is not None:
            beside.terminate()
            beside.wait()


def databases(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite")
        run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args)
    if args.postgres_url:
        print("PostgreSQL")
        run(args.postgres_url, args)
    elif args.postgres:
        from tests.servers import start_postgres  # noqa: PLC0415 - the tests' own cluster setup

        server = start_postgres(STATEMENT_STATS)
        try:
            server.psql("CREATE DATABASE bench")
            print("PostgreSQL")
            args.server_statements = True
            run(server.url("bench"), args)
        finally:
            server.destroy()


if __name__ == "__main__":
    main()
