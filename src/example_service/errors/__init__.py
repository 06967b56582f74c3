"""The error contract: RFC 9457 problem details (or the envelope) on every error path."""

from example_service.errors.exceptions import (
    AppError,
    BadRequestError,
    CircuitBreakerOpenError,
    ConflictError,
    ForbiddenError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    RequestHeaderFieldsTooLargeError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UnauthorizedError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)
from example_service.errors.problem import (
    Problem,
    ProblemDetail,
    ProblemRenderer,
    problem_responses,
)

__all__ = [
    "AppError",
    "BadRequestError",
    "CircuitBreakerOpenError",
    "ConflictError",
    "ForbiddenError",
    "InternalServerError",
    "NotFoundError",
    "PayloadTooLargeError",
    "Problem",
    "ProblemDetail",
    "ProblemRenderer",
    "RateLimitError",
    "RequestHeaderFieldsTooLargeError",
    "RequestTimeoutError",
    "ServiceUnavailableError",
    "UnauthorizedError",
    "UnprocessableError",
    "UnsupportedMediaTypeError",
    "problem_responses",
]
