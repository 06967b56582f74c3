"""The refusals of the edge-protection layers, in the error contract like every other error."""

from __future__ import annotations

from example_service.errors.exceptions import ForbiddenError, RateLimitError


class GeoBlockedError(ForbiddenError):
    code = "geo_blocked"
    default_detail = "This service is not available from your location."


class AddressDeniedError(ForbiddenError):
    code = "address_denied"
    default_detail = "Requests from this address are refused."


class ClientBannedError(RateLimitError):
    code = "client_banned"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"This client is temporarily banned after repeated refusals. "
            f"Retry after {retry_after} seconds.",
            retry_after=retry_after,
        )


class TooManyConcurrentError(RateLimitError):
    code = "too_many_concurrent_requests"

    def __init__(self) -> None:
        super().__init__(
            "Too many requests from this client are in progress; retry when one has finished.",
            retry_after=1,
        )
