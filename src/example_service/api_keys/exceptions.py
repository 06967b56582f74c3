from __future__ import annotations

from example_service.errors.exceptions import NotFoundError


class ApiKeyNotFoundError(NotFoundError):
    default_detail = "API key not found."
