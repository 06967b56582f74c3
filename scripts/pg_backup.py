"""Back up and restore the service's PostgreSQL database with pg_dump and pg_restore.

    python scripts/pg_backup.py backup  --out backup.dump   [--url URL] [--pg-bindir DIR]
    python scripts/pg_backup.py restore --input backup.dump [--url URL] [--pg-bindir DIR]

The URL defaults to $DATABASE_URL and may be the service's own SQLAlchemy URL
(`postgresql+asyncpg://user:password@host:5432/db?ssl=require`): the driver is removed, asyncpg's
`ssl` becomes libpq's `sslmode`, and the password travels in PGPASSWORD, not on the command
line, where any user of the host could read it in the process list.

backup: `pg_dump --format=custom` (compressed; pg_restore can pick objects from it) into a
temporary file beside --out, renamed into place only once pg_dump succeeded, so a failed run
never leaves a truncated backup under the expected name.

restore: `pg_restore --clean --if-exists --single-transaction --exit-on-error`: the objects in
the backup are dropped and recreated, in one transaction, so a restore that fails changes
nothing. Tables that are not in the backup are left alone. Stop every process of the service
first (or expect them to see errors while the transaction holds its locks).

Use pg_dump and pg_restore of the server's major version or newer (--pg-bindir chooses them,
e.g. /usr/lib/postgresql/17/bin). Exit status 0, or 1 with one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit


class BackupError(Exception):
    """A failure to report as one line on stderr."""


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """(a libpq URL without the password, the environment that carries the password)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in {"postgresql", "postgres"}:
        raise BackupError(f"not a PostgreSQL URL: {scheme or url!r}")
    env: dict[str, str] = {}
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"  # an IPv6 address
    if parts.port is not None:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = [("sslmode", v) if k == "ssl" else (k, v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(("postgresql", netloc, parts.path, urlencode(query), "")), env


def tool(name: str, bindir: str | None) -> str:
    found = str(Path(bindir) / name) if bindir else shutil.which(name)
    if not found or not Path(found).exists():
        where = bindir or "PATH"
        raise BackupError(f"{name} not found in {where} (apt-get install postgresql-client)")
    return found


def run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(  # noqa: S603 - an argument list of located binaries
        command, capture_output=True, text=True, env={**os.environ, **env}, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        why = lines[-1] if lines else f"exit status {done.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {why}")


def backup(url: str, out: Path, bindir: str | None) -> None:
    target, env = libpq_target(url)
    partial = out.with_name(f".{out.name}.partial")
    try:
        run([tool("pg_dump", bindir), "--format=custom", f"--file={partial}", target], env)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


def restore(url: str, source: Path, bindir: str | None) -> None:
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    target, env = libpq_target(url)
    command = [tool("pg_restore", bindir), "--clean", "--if-exists", "--single-transaction"]
    run([*command, "--exit-on-error", f"--dbname={target}", str(source)], env)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = p.add_subparsers(dest="command", required=True)
    for name, file_option, help_text in (
        ("backup", "--out", "the backup file to write"),
        ("restore", "--input", "the backup file to restore"),
    ):
        sub = commands.add_parser(name)
        sub.add_argument(file_option, required=True, type=Path, help=help_text)
        sub.add_argument("--url", default=os.environ.get("DATABASE_URL"), help="$DATABASE_URL")
        sub.add_argument("--pg-bindir", help="the directory of pg_dump/pg_restore (PATH)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.url:
        parser().error("no database: pass --url or set DATABASE_URL")
    try:
        if args.command == "backup":
            backup(args.url, args.out, args.pg_bindir)
            print(f"backed up to {args.out} ({args.out.stat().st_size} bytes)")
        else:
            restore(args.url, args.input, args.pg_bindir)
            print(f"restored {args.input}")
    except (BackupError, OSError) as exc:
        print(f"pg_backup: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
