"""The caching strategies: cache-aside, write-through, write-behind, refresh-ahead, `@cached`."""

from example_service.cache.strategies.ahead import RefreshAhead, Stamped
from example_service.cache.strategies.aside import CacheAside
from example_service.cache.strategies.behind import MemoryQueue, WriteBehind, WriteQueue
from example_service.cache.strategies.decorator import cached
from example_service.cache.strategies.through import WriteThrough

__all__ = [
    "CacheAside",
    "MemoryQueue",
    "RefreshAhead",
    "Stamped",
    "WriteBehind",
    "WriteQueue",
    "WriteThrough",
    "cached",
]
