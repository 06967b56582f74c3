"""Login, refresh rotation with reuse detection, logout."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from example_service.auth.cache import IdentityCache, changed_after_commit
from example_service.auth.models import AuthSession
from example_service.auth.passwords import Passwords
from example_service.auth.repository import SessionRepository
from example_service.auth.schemas import TokenPair
from example_service.auth.tokens import InvalidTokenError, IssuedToken, Tokens
from example_service.db.base import utcnow
from example_service.db.session import commit
from example_service.errors.exceptions import UnauthorizedError
from example_service.observability.logging import get_logger
from example_service.users.models import User
from example_service.users.repository import UserRepository

logger = get_logger("example_service.auth")


class BadCredentialsError(UnauthorizedError):
    # One message for an unknown email, a wrong password and a deactivated account.
    default_detail = "Incorrect email or password."


class RefreshReuseError(InvalidTokenError):
    default_detail = "This refresh token was already used; the session is revoked."


class AuthService:
    def __init__(
        self,
        session: AsyncSession,
        passwords: Passwords,
        tokens: Tokens,
        cache: IdentityCache | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session = session
        self.cache = cache
        self.users = UserRepository(session)
        self.sessions = SessionRepository(session)
        self.passwords = passwords
        self.tokens = tokens
        self.clock = clock

    async def login(self, email: str, password: str) -> TokenPair:
        user = await self.users.get_by_email(email.strip().lower())
        valid, new_hash = await self.passwords.verify(
            password, user.hashed_password if user is not None else None
        )
        if user is None or not valid or not user.is_active:
            logger.info("auth.login_failed")
            raise BadCredentialsError
        if new_hash is not None:  # a legacy (bcrypt) or weaker hash: replaced now we know it
            user.hashed_password = new_hash
        session_id = uuid.uuid4()
        pair, refresh = self._pair(user, session_id)
        self.sessions.add(
            AuthSession(
                id=session_id,
                user_id=user.id,
                refresh_jti=refresh.jti,
                expires_at=refresh.expires_at,
            )
        )
        await self.session.flush()
        logger.info("auth.login", user_id=str(user.id), session_id=str(session_id))
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        claims = self.tokens.decode(refresh_token, "refresh")
        auth_session = await self.sessions.get_for_update(claims.session_id)
        if (
            auth_session is None
            or auth_session.user_id != claims.user_id
            or auth_session.revoked_at is not None
        ):
            raise InvalidTokenError
        if auth_session.refresh_jti != claims.jti:
            # An older token of this session: someone replays it. Revoke the session, and
            # commit now, since the error response below rolls the request's session back.
            await self.sessions.revoke(auth_session, self.clock())
            changed_after_commit(self.cache, self.session, auth_session.user_id)
            await commit(self.session)
            logger.warning(
                "auth.refresh_reuse",
                user_id=str(claims.user_id),
                session_id=str(auth_session.id),
            )
            raise RefreshReuseError
        user = await self.users.get(claims.user_id)
        if user is None or not user.is_active or user.token_version != claims.version:
            raise InvalidTokenError
        pair, refresh = self._pair(user, auth_session.id)
        auth_session.refresh_jti = refresh.jti
        auth_session.expires_at = refresh.expires_at
        await self.session.flush()
        return pair

    async def logout(self, session_id: uuid.UUID) -> None:
        auth_session = await self.sessions.get(session_id)
        if auth_session is not None:
            await self.sessions.revoke(auth_session, self.clock())
            changed_after_commit(self.cache, self.session, auth_session.user_id)
            logger.info("auth.logout", session_id=str(session_id))

    def _pair(self, user: User, session_id: uuid.UUID) -> tuple[TokenPair, IssuedToken]:
        access = self.tokens.issue("access", user.id, user.token_version, session_id)
        refresh = self.tokens.issue("refresh", user.id, user.token_version, session_id)
        pair = TokenPair(
            access_token=access.token,
            refresh_token=refresh.token,
            expires_in=int(self.tokens.access_lifetime.total_seconds()),
        )
        return pair, refresh
