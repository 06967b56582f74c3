"""What tasks/ relies on in taskiq and taskiq-redis beyond their documented surface: fails
loudly when a release moves it (pyproject.toml pins the tested ranges). No private name is
used: these are the constructor's attributes our `listen` and `release` read, and options."""

from __future__ import annotations

import inspect

from taskiq import InMemoryBroker
from taskiq.receiver import Receiver

from example_service.tasks.redis import StreamBroker


# part: redis
def test_the_stream_broker_keeps_what_our_listen_reads() -> None:
    broker = StreamBroker(
        "redis://127.0.0.1:1/0", consumer_group_name="g", xread_block=1000, idle_timeout=500
    )
    # Set by RedisStreamBroker.__init__ and read by StreamBroker.listen / release.
    assert broker.consumer_group_name == "g"
    assert isinstance(broker.consumer_name, str)
    assert (broker.block, broker.idle_timeout) == (1000, 500)
    assert isinstance(broker.count, int)
    assert isinstance(broker.unacknowledged_batch_size, int)
    assert broker.connection_pool is not None
    # The private acknowledgement factory our messages carry.
    parameters = inspect.signature(broker._ack_generator).parameters
    assert list(parameters) == ["id", "queue_name"]


def test_the_receiver_takes_the_worker_options() -> None:
    parameters = inspect.signature(Receiver).parameters
    for name in ("max_async_tasks", "ack_type", "wait_tasks_timeout", "run_startup"):
        assert name in parameters, name


# end part: redis


def test_the_in_memory_broker_can_be_drained() -> None:
    assert inspect.iscoroutinefunction(InMemoryBroker.wait_all)
