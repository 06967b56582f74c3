"""The application's error hierarchy: raise these, never return ad-hoc error JSON."""

from __future__ import annotations

from typing import Any, ClassVar, Self


class AppError(Exception):
    """Base of every deliberate error; rendered as problem details by the error contract."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal Server Error"
    default_detail: ClassVar[str] = "An unexpected error occurred."
    # The caller this error denies access to something (see `denied_to`); None otherwise.
    denied_caller: str | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(self.detail)

    def denied_to(self, caller: object) -> Self:
        """Mark this error as an authorization denial of `caller` (a user id).

        The response is unchanged (a 404 that hides whether the target exists stays a 404); the
        error handler also logs `security.authz_denied` with the route and the caller, never
        the target.
        """
        self.denied_caller = str(caller)
        return self


class BadRequestError(AppError):
    status = 400
    code = "bad_request"
    title = "Bad Request"
    default_detail = "The request could not be understood."


class UnauthorizedError(AppError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"
    default_detail = "Authentication is required."

    def __init__(
        self,
        detail: str | None = None,
        *,
        scheme: str = "Bearer",
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            detail, headers={"WWW-Authenticate": scheme, **(headers or {})}, extra=extra
        )


class UnprocessableError(AppError):
    """A request that is well-formed but breaks a rule the schema cannot express.

    Rendered like request validation (422 `validation_error` with `errors`), so that clients
    handle both alike. `errors` are (field, message, type) triples; the field is a body field.
    """

    status = 422
    code = "validation_error"
    title = "Validation Error"
    default_detail = "Request validation failed."

    def __init__(self, errors: list[tuple[str, str, str]], detail: str | None = None) -> None:
        self.field_errors = errors
        super().__init__(detail or "; ".join(message for _, message, _ in errors))


class ForbiddenError(AppError):
    status = 403
    code = "forbidden"
    title = "Forbidden"
    default_detail = "You do not have permission to perform this action."


class NotFoundError(AppError):
    status = 404
    code = "not_found"
    title = "Not Found"
    default_detail = "The requested resource was not found."


class ConflictError(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"
    default_detail = "The request conflicts with the current state of the resource."


class RequestTimeoutError(AppError):
    """The client stopped sending its request before it was whole."""

    status = 408
    code = "request_timeout"
    title = "Request Timeout"
    default_detail = "The request was not received in time."

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        # The rest of the request may still arrive: the server must close the connection rather
        # than read those bytes as the next request.
        super().__init__(detail, headers={"Connection": "close", **(headers or {})}, extra=extra)


class PayloadTooLargeError(AppError):
    status = 413
    code = "payload_too_large"
    title = "Payload Too Large"
    default_detail = "The request body is larger than this endpoint accepts."


class UnsupportedMediaTypeError(AppError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported Media Type"
    default_detail = "The request's content type is not accepted here."


class RequestHeaderFieldsTooLargeError(AppError):
    status = 431
    code = "request_header_fields_too_large"
    title = "Request Header Fields Too Large"
    default_detail = "The request has too many headers or a header that is too large."


class RateLimitError(AppError):
    status = 429
    code = "rate_limited"
    title = "Too Many Requests"
    default_detail = "Too many requests; retry later."

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after: int,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.retry_after = max(0, int(retry_after))
        super().__init__(
            detail or f"Rate limit exceeded. Retry after {self.retry_after} seconds.",
            headers={"Retry-After": str(self.retry_after), **(headers or {})},
            extra={"retry_after": self.retry_after, **(extra or {})},
        )


class ServiceUnavailableError(AppError):
    status = 503
    code = "service_unavailable"
    title = "Service Unavailable"
    default_detail = "The service is temporarily unavailable."

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        merged = dict(headers or {})
        if retry_after is not None:
            merged.setdefault("Retry-After", str(max(0, int(retry_after))))
        super().__init__(detail, headers=merged, extra=extra)


class CircuitBreakerOpenError(ServiceUnavailableError):
    title = "Circuit Breaker Open"
    default_detail = "A dependency is failing; requests to it are paused."


class UpstreamError(AppError):
    """A service this one calls answered with an error, or with something that is no answer."""

    status = 502
    code = "upstream_error"
    title = "Bad Gateway"
    default_detail = "A service this request depends on failed to answer it."


class UpstreamTimeoutError(AppError):
    status = 504
    code = "upstream_timeout"
    title = "Gateway Timeout"
    default_detail = "A service this request depends on did not answer in time."


class InternalServerError(AppError):
    """Raise when a failure is known but must not be described to the client."""
