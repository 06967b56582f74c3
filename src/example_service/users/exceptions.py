from __future__ import annotations

from example_service.errors.exceptions import ConflictError, ForbiddenError, NotFoundError


class EmailTakenError(ConflictError):
    default_detail = "A user with this email already exists."


class UserNotFoundError(NotFoundError):
    # The same answer whether the user does not exist or exists and is not yours to see.
    default_detail = "User not found."


class AdminFieldsError(ForbiddenError):
    default_detail = "Only an administrator may change role or is_active."


class CurrentPasswordError(ForbiddenError):
    default_detail = "Changing your password needs your current password."
