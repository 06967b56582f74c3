"""Outbound HTTP: the services the API calls, each behind its breaker, with retries.

    Payments = Annotated[ServiceClient, Depends(service("payments"))]

    @router.get("/orders/{order_id}/charge", responses=problem_responses(502, 503, 504))
    async def charge(order_id: int, payments: Payments) -> Charge:
        response = await payments.get(f"/charges/{order_id}")
        if response.status_code == 404:
            raise NotFoundError("No charge for this order.")
        return Charge.model_validate_json(response.content)

Imported only when OUTBOUND_SERVICES names a service (app.py): httpx stays unloaded otherwise.
"""

from example_service.outbound.client import IDEMPOTENT_METHODS, ServiceClient
from example_service.outbound.dependencies import UnknownServiceError, outbound_client, service
from example_service.outbound.startup import start_outbound

__all__ = [
    "IDEMPOTENT_METHODS",
    "ServiceClient",
    "UnknownServiceError",
    "outbound_client",
    "service",
    "start_outbound",
]
