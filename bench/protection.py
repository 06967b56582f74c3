"""Edge protection on against off: geo blocking, abuse protection, both with alerting.

Every target is the full default stack serving the health endpoint `GET /health`, behind a
trusted proxy (this script), each request naming a public client address in X-Forwarded-For
that the test database places in GB (blocked: CN). Only the protection settings differ, so the
ratios are the price of the layers themselves:

    off       protection off (the layers are not installed)
    geo       SECURITY_ENABLE_GEO_BLOCKING (a small database written here with mmdb-writer)
    ddos      SECURITY_ENABLE_DDOS_PROTECTION (bans checked per request, statuses watched)
    all       both, with SECURITY_ENABLE_ALERTING and a per-client concurrency limit

    python -m bench.protection                       # callgrind: instructions per request
    python -m bench.protection --method wrk --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench.callgrind import instructions_per_request
from bench.run import Target, measure, ours, start

CLIENT = "81.2.69.142"
PATH = "/health"


def write_database(path: Path) -> Path:
    try:
        from tests.security.geodb import write_country_db  # noqa: PLC0415 - a dev dependency
    except ImportError:
        sys.exit("mmdb-writer is not installed (uv sync installs the dev dependencies)")
    return write_country_db(path, {"81.2.69.0/24": "GB", "175.16.199.0/24": "CN"})


def targets(database: Path) -> list[Target]:
    common = {
        "RATE_LIMIT_REQUESTS": "1000000000",
        "RATE_LIMIT_PER_HOUR": "1000000000",
        "SECURITY_TRUSTED_PROXIES": "127.0.0.1",
    }
    geo = {
        "SECURITY_ENABLE_GEO_BLOCKING": "true",
        "SECURITY_GEOIP_DATABASE_PATH": str(database),
        "SECURITY_BLOCKED_COUNTRIES": "CN",
    }
    ddos = {"SECURITY_ENABLE_DDOS_PROTECTION": "true"}
    extra = {"SECURITY_ENABLE_ALERTING": "true", "SECURITY_MAX_CONCURRENT_PER_CLIENT": "64"}
    settings = {
        "off": {},
        "geo": geo,
        "ddos": ddos,
        "all": {**geo, **ddos, **extra},
    }
    out = []
    for index, (name, env) in enumerate(settings.items()):
        target = ours(8720 + index, {**common, **env}, path=PATH)
        target.name = name
        target.headers = [f"X-Forwarded-For: {CLIENT}"]
        out.append(target)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=["wrk", "callgrind"], default="callgrind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--callgrind-seconds", type=int, default=10)
    parser.add_argument("--only", nargs="*", help="target names (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        chosen = targets(write_database(Path(tmp) / "countries.mmdb"))
        if args.only:
            chosen = [t for t in chosen if t.name == "off" or t.name in args.only]
        if args.method == "callgrind":
            counts = {
                t.name: instructions_per_request(
                    t, 8710, args.callgrind_seconds, args.connections, start
                )
                for t in chosen
            }
            for name, count in counts.items():
                print(f"{name:>5}: {count:10.0f} instructions/request")
            for name, count in counts.items():
                if name != "off":
                    print(f"ratio off / {name} (instructions): {counts['off'] / count:.3f}")
            return
        results = measure(chosen, args.rounds, args.seconds, args.connections)
    cpu = {name: statistics.median(r.cpu_us for r in rows) for name, rows in results.items()}
    rps = {name: statistics.median(r.rps for r in rows) for name, rows in results.items()}
    for name in results:
        print(f"{name:>5}: median {rps[name]:8.0f} req/s   cpu {cpu[name]:6.1f} us/request")
    for name in results:
        if name != "off":
            print(
                f"ratio {name} / off: req/s {rps[name] / rps['off']:.3f},"
                f" by CPU per request {cpu['off'] / cpu[name]:.3f}"
            )


if __name__ == "__main__":
    main()
