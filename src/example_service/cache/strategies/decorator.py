"""`@cached(...)`: cache-aside for a route whose answer is a pydantic model.

    @router.get("/products/{product_id}", response_model=ProductRead)
    @cached("products", key="{product_id}", ttl=120, tags=["catalog"])
    async def read_product(product_id: int, service: Service) -> ProductRead: ...

The key (and tags) are formatted from the route's parameters. The cached value is what the
endpoint returns, for whoever asks next: use it for answers that do not depend on the caller,
or put the caller in the key. Concurrent misses of one key run the endpoint once. With the
cache off (CACHE_ENABLED=false) the endpoint simply runs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast, get_type_hints

from fastapi import Request
from pydantic import BaseModel

from example_service.cache.strategies.aside import CacheAside

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
_REQUEST = "cached_request"  # the parameter this adds when the endpoint takes no Request


def cached(
    name: str, *, key: str, ttl: float | None = None, tags: Sequence[str] = ()
) -> Callable[[F], F]:
    def decorate(endpoint: F) -> F:
        model = get_type_hints(endpoint).get("return")
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"@cached needs a route returning a pydantic model: {endpoint!r}")
        signature = inspect.signature(endpoint)
        own_request = next(
            (p.name for p in signature.parameters.values() if p.annotation in (Request, "Request")),
            None,
        )
        asides: dict[int, CacheAside[Any]] = {}  # per cache (one per app)

        @functools.wraps(endpoint)
        async def wrapper(**kwargs: Any) -> Any:
            request: Request = kwargs[own_request] if own_request else kwargs.pop(_REQUEST)
            cache = request.app.state.cache
            if cache is None:
                return await endpoint(**kwargs)
            aside = asides.get(id(cache))
            if aside is None:
                aside = asides[id(cache)] = CacheAside(cache.namespace(name, model, ttl))
            return await aside.get(
                key.format(**kwargs),
                lambda: endpoint(**kwargs),
                tags=[tag.format(**kwargs) for tag in tags],
            )

        if own_request is None:
            extra = inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
            signature = signature.replace(parameters=[*signature.parameters.values(), extra])
        wrapper.__signature__ = signature  # type: ignore[attr-defined]  # what FastAPI reads
        return cast(F, wrapper)

    return decorate
