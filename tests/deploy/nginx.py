"""A real nginx running deploy/nginx/nginx.conf in front of the tests' app instances.

The file is the one compose mounts; the test renders it with two substitutions, each of which
must match exactly once (a changed file fails here rather than being tested half-applied): the
`server app:8000 ...;` line becomes one line per instance, with the same parameters, and the
listen port becomes a free one. pid and error log go on the command line, temp files under the
prefix (a tmp dir), and as root nginx runs as `nobody`: the setup a container without root has.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.servers import _missing, _wait_port, free_port

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "nginx" / "nginx.conf"

_SERVER = re.compile(r"^(\s*)server app:8000( [^;]*)?;$", re.MULTILINE)
_LISTEN = re.compile(r"^(\s*)listen 8080;$", re.MULTILINE)


def render(conf: str, upstreams: Sequence[str], port: int) -> str:
    """The conf with its upstream servers replaced by `upstreams` ("host:port") and its listen
    port by `port`."""

    def servers(match: re.Match[str]) -> str:
        indent, params = match.group(1), match.group(2) or ""
        return "\n".join(f"{indent}server {address}{params};" for address in upstreams)

    conf, found = _SERVER.subn(servers, conf)
    if found != 1:
        raise ValueError(f"expected one `server app:8000` line, found {found}")
    conf, found = _LISTEN.subn(lambda m: f"{m.group(1)}listen 127.0.0.1:{port};", conf)
    if found != 1:
        raise ValueError(f"expected one `listen 8080;` line, found {found}")
    return conf


class Nginx:
    """nginx started on a free port in a prefix of its own; `access_log` is its stdout."""

    def __init__(self, upstreams: Sequence[str]) -> None:
        # Debian installs it in /usr/sbin, which a non-root PATH may lack.
        binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
        if binary is None:
            _missing("nginx", "apt-get install nginx")
        self.binary = str(binary)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.prefix = Path(tempfile.mkdtemp(prefix="nginx-test-"))
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(render(CONF.read_text(), upstreams, self.port))
        self.access_log = self.prefix / "access.log"
        self.error_log = self.prefix / "error.log"
        self.access_log.touch()
        self.error_log.touch()
        self.user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("nobody")
            for path in (self.prefix, self.access_log, self.error_log):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        self.process: subprocess.Popen[bytes] | None = None

    def _command(self, *extra: str) -> list[str]:
        directives = f"pid {self.prefix}/nginx.pid; error_log {self.error_log} notice;"
        return [
            self.binary,
            "-p",
            f"{self.prefix}/",
            "-c",
            str(self.conf),
            "-e",
            str(self.error_log),
            "-g",
            directives + " daemon off;",
            *extra,
        ]

    def _run_as(self) -> dict[str, int]:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def start(self) -> None:
        # stdout is a file nginx's user may open: the conf's access log is /dev/stdout.
        with self.access_log.open("ab") as out:
            checked = subprocess.run(  # noqa: PLW1510 - the output explains a failure below
                self._command("-t"), stdout=out, stderr=subprocess.PIPE, **self._run_as()
            )
            if checked.returncode != 0:
                raise RuntimeError(f"nginx -t failed: {checked.stderr.decode(errors='replace')}")
            self.process = subprocess.Popen(
                self._command(),
                stdout=out,
                stderr=subprocess.STDOUT,
                **self._run_as(),  # type: ignore[arg-type]
            )
        _wait_port(self.port)

    def log_lines(self, at_least: int = 0, timeout: float = 5.0) -> list[str]:
        """The access log's lines, once it has `at_least` of them (nginx writes a line after
        the response has gone, so a client can read the response before its line exists)."""
        deadline = time.monotonic() + timeout
        lines = self.access_log.read_text().splitlines()
        while len(lines) < at_least and time.monotonic() < deadline:
            time.sleep(0.05)
            lines = self.access_log.read_text().splitlines()
        return lines

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.prefix, ignore_errors=True)
