"""Authenticated read benchmark: `GET /api/v1/users/{id}` with a bearer token.

Reports req/s on SQLite (and on PostgreSQL with --postgres-url) and the share of each request
spent validating the token: the in-process cost of one `Tokens.decode` times the measured req/s
(one worker pinned to one core, so 1 s of server time is spent per second of load).

    python -m bench.users [--postgres-url postgresql+asyncpg://...] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import timeit
from pathlib import Path

import httpx

from bench.run import BIN, ROOT, SCENARIOS, Target, start, stop, wrk
from example_service.auth.tokens import Tokens
from example_service.settings import SecuritySettings

SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789"  # noqa: S105 - bench key
PORT = 8710


def environment(database_url: str) -> dict[str, str]:
    return {
        **SCENARIOS["default"],  # limits high enough that the rate limiter never refuses
        "DATABASE_URL": database_url,
        "LOG_FORMAT": "json",
        "SECURITY_JWT_SECRET": SECRET,
        "SECURITY_PASSWORD_HASH_MEMORY_KIB": "1024",
        "SECURITY_PASSWORD_HASH_TIME_COST": "1",
    }


def decode_seconds(token: str, *, cached: bool) -> float:
    tokens = Tokens(SecuritySettings(jwt_secret=SECRET))
    number = 20_000

    def once() -> None:
        if cached:
            tokens.decode(token, "access")
        else:
            tokens._verify(token, "access")  # the full PyJWT verification, no cache

    return min(timeit.repeat(once, number=number, repeat=5)) / number


def run(database_url: str, rounds: int, seconds: int, connections: int) -> None:
    env = environment(database_url)
    subprocess.run(
        [str(BIN / "example-service"), "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    base = Target("ours", [str(BIN / "example-service"), "serve", "--port", str(PORT)], "/health")
    base.env = env
    proc = start(base, PORT)
    try:
        api = f"http://127.0.0.1:{PORT}/api/v1"
        email, password = f"bench-{os.getpid()}@example.com", "bench-password-1"
        created = httpx.post(f"{api}/users", json={"email": email, "password": password})
        user_id = created.json()["id"]
        login = httpx.post(f"{api}/auth/login", json={"email": email, "password": password})
        token = login.json()["access_token"]
        target = Target(
            "ours",
            base.command,
            f"/api/v1/users/{user_id}",
            env=env,
            headers=[f"Authorization: Bearer {token}"],
        )
        wrk(PORT, target, 2, connections)  # warm-up
        results = []
        for round_no in range(rounds):
            rps, p99, _ = wrk(PORT, target, seconds, connections)
            results.append(rps)
            print(f"  round {round_no + 1}: {rps:8.0f} req/s  p99 {p99:6.2f} ms")
    finally:
        stop(proc)
    rps = statistics.median(results)
    print(f"median {rps:8.0f} req/s")
    for cached in (True, False):
        per_decode = decode_seconds(token, cached=cached)
        label = "cached (a token seen before)" if cached else "first use (full PyJWT verify)"
        print(
            f"token validation, {label}: {per_decode * 1e6:.1f} us"
            f" = {per_decode * rps * 100:.2f} % of request time"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", help="also run against this (empty) database")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite")
        run(
            f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            args.rounds,
            args.seconds,
            args.connections,
        )
    if args.postgres_url:
        print("PostgreSQL")
        run(args.postgres_url, args.rounds, args.seconds, args.connections)


if __name__ == "__main__":
    main()
