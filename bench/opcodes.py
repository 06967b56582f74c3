"""Where the extra work goes: Python opcodes per request and function, ours against bare.

    python -m bench.opcodes [--requests 200] [--top 40]

Each app runs in its own process, under uvicorn's httptools protocol on a transport that only
records what is written (no sockets, no load generator), so a run takes seconds and repeats
exactly. The measured requests are traced opcode by opcode, and the report lists, per function,
the opcodes per request of each app and the difference, largest first.

Opcodes are not time: C work (regular expressions, formatting, orjson) counts as one opcode, and
the opcodes of different functions cost different amounts. Use this to find which function to
look at; `python -m bench.run` (wrk or callgrind) to decide whether a change paid.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import gc
import json
import os
import re
import subprocess
import sys
from types import FrameType
from typing import Any

from bench.run import ROOT, SCENARIOS, bare, ours

TARGETS = {"bare": bare(0), "ours": ours(0, SCENARIOS["default"])}  # as `bench.run` serves them
REQUEST = b"GET %b HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n" % TARGETS["ours"].path.encode()


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.responses = 0
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.responses += bytes(data).count(b"HTTP/1.1 ")

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


@functools.cache  # called per traced opcode, with a few hundred files
def _short(filename: str) -> str:
    """A path from the package down: site-packages, src/, or the standard library."""
    for pattern in (r"^.*/site-packages/", r"^.*/src/", r"^.*/lib/python3\.\d+/"):
        short, found = re.subn(pattern, "", filename)
        if found:
            return short
    return filename


async def _count(target: str, requests: int) -> dict[str, float]:
    from uvicorn.config import Config  # noqa: PLC0415 - in the measuring process only
    from uvicorn.lifespan.on import LifespanOn  # noqa: PLC0415
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # noqa: PLC0415
    from uvicorn.server import ServerState  # noqa: PLC0415

    # The server's own default headers: uvicorn adds them, the app does not.
    date = (b"date", b"Sun, 29 Nov 2026 10:00:00 GMT")
    if target == "bare":
        app, headers = "bench.bare_app:create_app", [date, (b"server", b"uvicorn")]
    else:
        app, headers = "example_service.app:create_app", [date]
    config = Config(app, factory=True, access_log=False, log_config=None)
    config.load()
    lifespan = LifespanOn(config)
    await lifespan.startup()
    state = ServerState()
    state.default_headers = headers
    protocol = HttpToolsProtocol(config, state, app_state=lifespan.state)
    transport = RecordingTransport()
    protocol.connection_made(transport)

    async def one() -> None:
        expected = transport.responses + 1
        protocol.data_received(REQUEST)
        # One loop turn at a time, as a server runs it; uvicorn offers nothing to await.
        while transport.responses < expected or not protocol.cycle.response_complete:  # noqa: ASYNC110
            await asyncio.sleep(0)
        await asyncio.sleep(0)  # the end of the cycle

    for _ in range(200):  # warm caches, as a served process is
        await one()
    gc.collect()
    gc.freeze()

    counts: collections.Counter[str] = collections.Counter()

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "call":
            frame.f_trace_opcodes = True
        elif event == "opcode":
            code = frame.f_code
            counts[f"{_short(code.co_filename)}:{code.co_qualname}"] += 1
        return trace

    sys.settrace(trace)
    try:
        for _ in range(requests):
            await one()
    finally:
        sys.settrace(None)
    await lifespan.shutdown()
    return {name: count / requests for name, count in counts.items()}


def measure(target: str, requests: int) -> dict[str, float]:
    """Opcodes per request and function for `target`, counted in a fresh process."""
    env = {**os.environ, **TARGETS[target].env}
    out = subprocess.run(
        [sys.executable, "-m", "bench.opcodes", "--count", target, "--requests", str(requests)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
    ).stdout
    # The app logs to stdout as well: the counts are the last line.
    return json.loads(out.splitlines()[-1])  # type: ignore[no-any-return]


def report(bare: dict[str, float], ours: dict[str, float], top: int) -> None:
    print(f"opcodes per request: bare {sum(bare.values()):.0f}, ours {sum(ours.values()):.0f}")
    names = sorted(set(bare) | set(ours), key=lambda n: -abs(ours.get(n, 0) - bare.get(n, 0)))
    print(f"{'ours':>8} {'bare':>8} {'diff':>8}  function")
    for name in names[:top]:
        o, b = ours.get(name, 0.0), bare.get(name, 0.0)
        print(f"{o:8.1f} {b:8.1f} {o - b:+8.1f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--count", choices=["bare", "ours"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count:
        counts = asyncio.run(_count(args.count, args.requests))
        sys.stdout.write("\n" + json.dumps(counts) + "\n")
        return
    report(measure("bare", args.requests), measure("ours", args.requests), args.top)


if __name__ == "__main__":
    main()
