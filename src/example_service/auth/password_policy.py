"""What a new password must be (OWASP ASVS V6.2): long enough and not one anybody would guess.

No composition rules (ASVS advises against them): a length floor (`SECURITY_PASSWORD_MIN_LENGTH`,
8 at least), and a refusal of the ~20,000 most common passwords (a list shipped as package data,
see common-passwords.NOTICE) and of the account's own e-mail address or its local part.
Compared case-insensitively: "Password1" is as weak as "password1".
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib.resources import files

from example_service.errors.exceptions import UnprocessableError

COMMON_PASSWORDS = "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    """The list, read once per process (~20 ms) and kept as a set."""
    data = files("example_service.auth").joinpath(COMMON_PASSWORDS).read_bytes()
    return frozenset(gzip.decompress(data).decode().splitlines())


class WeakPasswordError(UnprocessableError):
    pass


class PasswordPolicy:
    def __init__(self, min_length: int) -> None:
        self.min_length = min_length

    def check(self, password: str, email: str | None = None, field: str = "password") -> None:
        """Raise `WeakPasswordError` (a 422 naming `field`) saying why `password` is refused."""
        if len(password) < self.min_length:
            raise WeakPasswordError(
                [
                    (
                        field,
                        f"The password must have at least {self.min_length} characters.",
                        "password_too_short",
                    )
                ]
            )
        lowered = password.lower()
        if lowered in common_passwords():
            raise WeakPasswordError(
                [(field, "This password is too common; choose another.", "password_too_common")]
            )
        if email:
            address = email.lower()
            if lowered in (address, address.partition("@")[0]):
                raise WeakPasswordError(
                    [(field, "The password must not be your e-mail address.", "password_is_email")]
                )
