"""Password hashing: argon2id for new hashes, bcrypt still verified (and replaced on next login).

Hashing is deliberately slow CPU work, so it runs in a worker thread (argon2 releases the GIL)
instead of stalling the event loop for every other request.
"""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher
from starlette.concurrency import run_in_threadpool

from example_service.auth.password_policy import PasswordPolicy, common_passwords
from example_service.observability.logging import get_logger
from example_service.settings import SecuritySettings

MIN_LENGTH = 8
MAX_LENGTH = 128
# bcrypt only ever hashed the first 72 bytes of a password; the bcrypt package now refuses longer
# ones instead of ignoring the rest.
BCRYPT_MAX_BYTES = 72

logger = get_logger("example_service.auth")


class Passwords:
    def __init__(self, settings: SecuritySettings) -> None:
        argon2 = Argon2Hasher(
            time_cost=settings.password_hash_time_cost,
            memory_cost=settings.password_hash_memory_kib,
        )
        # The first hasher hashes; the others only verify, and `verify_and_update` re-hashes
        # anything not produced by the first one with its current parameters.
        self._hash = PasswordHash((argon2, BcryptHasher()))
        self._dummy: str | None = None
        self.policy = PasswordPolicy(settings.password_min_length)

    async def hash(self, password: str) -> str:
        return await run_in_threadpool(self._hash.hash, password)

    async def warm(self) -> None:
        """Make the dummy hash up front, so the first unknown-email login takes no longer, and
        load the common passwords, so the first registration does not either."""
        if self._dummy is None:
            self._dummy = await self.hash("dummy password never used by anyone")
            await run_in_threadpool(common_passwords)

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """(valid, new hash to store or None). With no hash (unknown email), a dummy is verified
        so that the answer takes as long as for a known email with a wrong password."""
        if hashed is None:
            await self.warm()
            await run_in_threadpool(self._hash.verify, password, self._dummy or "")
            return False, None
        return await run_in_threadpool(self._verify_and_update, password, hashed)

    def _verify_and_update(self, password: str, hashed: str) -> tuple[bool, str | None]:
        encoded = password.encode()
        if len(encoded) > BCRYPT_MAX_BYTES and BcryptHasher.identify(hashed):
            # A legacy bcrypt hash was made from the password's first 72 bytes (bcrypt's
            # documented truncation): verify those, then store the whole password's hash.
            head = encoded[:BCRYPT_MAX_BYTES]
            if not self._hash.verify(head, hashed):
                return False, None
            return True, self._hash.hash(password)
        try:
            return self._hash.verify_and_update(password, hashed)
        except UnknownHashError:
            # A stored value no hasher recognises (corrupt, or a scheme not configured here):
            # nothing can match it. Said once per attempt, without the value.
            logger.warning("auth.unknown_hash_format")
            return False, None
