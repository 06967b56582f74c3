"""How route code reaches a service: `outbound_client(request, name)`, or `service(name)` as a
FastAPI dependency."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import HTTPConnection

from example_service.outbound.client import ServiceClient


class UnknownServiceError(LookupError):
    """A service the code calls is not in OUTBOUND_SERVICES: a deployment mistake (a 500)."""


def outbound_client(connection: HTTPConnection, name: str) -> ServiceClient:
    clients: dict[str, ServiceClient] = getattr(connection.app.state, "outbound", {})
    client = clients.get(name)
    if client is None:
        raise UnknownServiceError(f"no outbound service {name!r}: add it to OUTBOUND_SERVICES")
    return client


def service(name: str) -> Callable[[HTTPConnection], Awaitable[ServiceClient]]:
    """`Annotated[ServiceClient, Depends(service("payments"))]`."""

    # async: FastAPI runs a plain function dependency in a worker thread.
    async def dependency(connection: HTTPConnection) -> ServiceClient:
        return outbound_client(connection, name)

    return dependency
