"""The welcome e-mail on registration: logged by default; through SMTP to a real server the
test starts (aiosmtpd), retried when the server says "later" (4xx), dead-lettered when it
refuses for good (5xx). In-process broker: the task runs in the API process."""

from __future__ import annotations

import stamina

from example_service.settings import EmailSettings
from example_service.tasks.builtin import WELCOME_EMAIL
from tests.conftest import LogCapture
from tests.identity import Api
from tests.tasks.conftest import Mailbox, TaskApp, running
from tests.tasks.test_inprocess import runtime


async def test_by_default_the_welcome_email_is_only_logged(
    tasks_api: Api, logs: LogCapture
) -> None:
    created = await tasks_api.register("grace@example.com")
    assert created.status_code == 201
    [line] = logs.events("email.logged")
    assert line["subject"] == "Welcome to example-service"
    assert line["email"] == "g***@example.com"  # addresses are masked in the logs
    assert "grace@" not in str(logs.lines())
    [finished] = [e for e in logs.events("task.finished") if e["task"] == WELCOME_EMAIL]
    assert finished["status"] == "ok"
    assert finished["request_id"] == created.headers["X-Request-ID"]


def smtp_settings(port: int) -> EmailSettings:
    return EmailSettings(backend="smtp", smtp_host="127.0.0.1", smtp_port=port)


async def test_a_4xx_is_retried_then_the_message_goes_through(
    task_app: TaskApp, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    mailbox.replies = ["451 4.7.1 try again later"]
    async with running(task_app(email=smtp_settings(port))) as api:
        with stamina.set_testing(True, attempts=2):
            created = await api.register("ada@example.com")
        assert created.status_code == 201
        assert mailbox.refused == 1
        [mail] = mailbox.messages
        assert mail["To"] == "ada@example.com"
        assert await runtime(api).dead_letters.count() == 0


async def test_a_5xx_is_final_and_dead_letters_the_task(
    task_app: TaskApp, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    mailbox.replies = ["554 5.7.1 rejected"]
    async with running(task_app(email=smtp_settings(port))) as api:
        with stamina.set_testing(True, attempts=3):
            created = await api.register("bob@example.com")
        assert created.status_code == 201  # the account exists all the same
        assert mailbox.refused == 1  # not retried
        assert mailbox.messages == []
        [letter] = await runtime(api).dead_letters.list()
        assert letter.task == WELCOME_EMAIL
        assert letter.attempts == 1
        assert "554" in letter.error
