"""Sending e-mail: an `Emailer` Protocol, a log-only default and an SMTP one (aiosmtplib).

The SMTP emailer opens one connection per message: tasks send rarely, and a pooled connection
would need its own liveness handling. aiosmtplib is imported only when EMAIL_BACKEND=smtp.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from example_service.observability.logging import get_logger
from example_service.settings import EmailSettings
from example_service.tasks.errors import RetryableTaskError

logger = get_logger("example_service.email")


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    body: str


class Emailer(Protocol):
    async def send(self, email: Email) -> None: ...


class LogEmailer:
    """Writes each message's envelope to the log instead of sending it (no body: it may hold
    personal data)."""

    async def send(self, email: Email) -> None:
        logger.info("email.logged", email=email.to, subject=email.subject)  # masked


class SmtpEmailer:
    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    async def send(self, email: Email) -> None:
        import aiosmtplib  # noqa: PLC0415 - EMAIL_BACKEND=smtp only

        settings = self.settings
        message = EmailMessage()
        message["From"] = settings.from_address
        message["To"] = email.to
        message["Subject"] = email.subject
        message.set_content(email.body)
        password = settings.smtp_password
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=password.get_secret_value() if password is not None else None,
                start_tls=settings.smtp_starttls,
                use_tls=settings.smtp_tls,
                timeout=settings.timeout_seconds,
            )
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx: the server asks to try again later (greylisting, a full queue); 5xx is
            # final. Connection failures and timeouts are retried as they are.
            if 400 <= exc.code < 500:
                raise RetryableTaskError(f"SMTP {exc.code}: {exc.message}") from exc
            raise
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if all(400 <= error.code < 500 for error in exc.recipients):
                raise RetryableTaskError(f"SMTP recipients refused: {exc}") from exc
            raise
        logger.info("email.sent", email=email.to, subject=email.subject)  # masked


def build_emailer(settings: EmailSettings) -> Emailer:
    return SmtpEmailer(settings) if settings.backend == "smtp" else LogEmailer()
