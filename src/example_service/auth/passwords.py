"""Password hashing: argon2id for new hashes, bcrypt still verified (and replaced on next login).

Hashing is deliberately slow CPU work, so it runs in a worker thread (argon2 releases the GIL)
instead of stalling the event loop for every other request.
"""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher
from starlette.concurrency import run_in_threadpool

from example_service.settings import SecuritySettings

MIN_LENGTH = 8
MAX_LENGTH = 128


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

    async def hash(self, password: str) -> str:
        return await run_in_threadpool(self._hash.hash, password)

    async def warm(self) -> None:
        """Make the dummy hash up front, so the first unknown-email login takes no longer."""
        if self._dummy is None:
            self._dummy = await self.hash("dummy password never used by anyone")

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """(valid, new hash to store or None). With no hash (unknown email), a dummy is verified
        so that the answer takes as long as for a known email with a wrong password."""
        if hashed is None:
            await self.warm()
            await run_in_threadpool(self._hash.verify, password, self._dummy or "")
            return False, None
        return await run_in_threadpool(self._hash.verify_and_update, password, hashed)
