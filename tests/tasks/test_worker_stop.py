"""A stopping worker ends within its shutdown timeout and a short grace, whatever its receiver
does (taskiq's has been seen to hang closing its pending read)."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from example_service.tasks import worker


class Hanging:
    async def listen(self, stop: asyncio.Event) -> None:
        await stop.wait()
        await asyncio.Event().wait()  # never returns


class Prompt:
    async def listen(self, stop: asyncio.Event) -> None:
        await stop.wait()


@pytest.fixture(autouse=True)
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "STOP_GRACE_SECONDS", 0.05)


@pytest.mark.parametrize(("receiver", "forced"), [(Hanging(), True), (Prompt(), False)])
async def test_the_receiver_is_stopped_if_it_does_not_stop(receiver: object, forced: bool) -> None:
    stop = asyncio.Event()
    with capture_logs() as logs:
        listening = asyncio.create_task(worker._listen(receiver, stop, 0.05))
        await asyncio.sleep(0.01)
        assert not listening.done()  # running until told to stop
        stop.set()
        await asyncio.wait_for(listening, 2.0)
    assert ("worker.stop_forced" in [log["event"] for log in logs]) is forced


async def test_an_error_of_the_receiver_is_raised() -> None:
    class Failing:
        async def listen(self, stop: asyncio.Event) -> None:
            raise RuntimeError("broker gone")

    with pytest.raises(RuntimeError, match="broker gone"):
        await worker._listen(Failing(), asyncio.Event(), 0.05)
