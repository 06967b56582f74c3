"""No log line carries bound SQL parameters, password hashes or unmasked e-mail addresses.

Not even the ones we do not write: exception messages and tracebacks of database failures, and
library records. The end-to-end test scans every line of a run against a real PostgreSQL that
refuses a write with the row in its message and then goes down.
"""

from __future__ import annotations

import io
import logging
import re

import httpx
import orjson
import pytest
import structlog
from asgi_lifespan import LifespanManager

from example_service.app import create_app
from example_service.db.migrate import alembic_config, upgrade
from example_service.observability.logging import configure_logging, get_logger, scrub_text
from example_service.settings import DatabaseSettings, LogSettings
from tests.conftest import LogCapture, SettingsFactory
from tests.identity import PASSWORD, security_settings
from tests.servers import PostgresServer

_UNMASKED_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{2,}@example\.com")
SQL_ERROR = (
    "(sqlalchemy.dialects.postgresql.asyncpg.Error) <class 'asyncpg.exceptions.RaiseError'>: "
    "refused bob.smith@example.com\n[SQL: INSERT INTO users (email, hashed_password) VALUES "
    "($1::VARCHAR, $2::VARCHAR)]\n[parameters: ('bob.smith@example.com', '$argon2id$v=19$m=65536"
    ",t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g')]\n(Background on this error at: https://sqlalche.me/e/20)"
)


def test_scrub_text_masks_what_free_text_can_carry() -> None:
    scrubbed = scrub_text(SQL_ERROR)
    assert "bob.smith@example.com" not in scrubbed and "b***@example.com" in scrubbed
    assert "$argon2id" not in scrubbed and "aGFzaGhhc2g" not in scrubbed
    assert "[parameters: ***]" in scrubbed
    assert "[SQL: INSERT INTO users" in scrubbed  # the statement itself stays: it helps
    assert "(Background on this error" in scrubbed
    # A client library logs the URLs it calls, queries included.
    url = 'HTTP Request: GET https://api.example/cb?page=2&access_token=abc.def&Api-Key=k1 "200"'
    assert scrub_text(url) == (
        'HTTP Request: GET https://api.example/cb?page=2&access_token=***&Api-Key=*** "200"'
    )
    bcrypt_hash = "$2b$12$" + "a" * 53
    assert scrub_text(f"old hash {bcrypt_hash} rejected") == "old hash *** rejected"


def test_exception_text_is_scrubbed_in_both_formats() -> None:
    for log_format in ("json", "console"):
        stream = io.BytesIO()
        configure_logging(LogSettings(format=log_format), stream)
        try:
            raise RuntimeError(SQL_ERROR)
        except RuntimeError:
            get_logger("t").exception("db.failed")
        logging.getLogger("sqlalchemy.pool").error("gave up on carol@example.com")
        text = stream.getvalue().decode()
        assert "Traceback" in text
        assert not _UNMASKED_EMAIL.search(text), text
        assert "$argon2id" not in text
        assert "c***@example.com" in text
    structlog.reset_defaults()


def test_console_escapes_control_characters() -> None:
    stream = io.BytesIO()
    configure_logging(LogSettings(format="console"), stream)
    get_logger("t").info("http.request", route="/a\x1b[31mred", extra={"k": "line\nbreak\x07"})
    logging.getLogger("uvicorn.error").warning("bad \x1b[2J path\r\nforged line")
    text = stream.getvalue().decode()
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "/a\\x1b[31mred" in text and "line\\nbreak\\x07" in text
    assert len(text.strip().splitlines()) == 2  # no forged line
    structlog.reset_defaults()


def test_json_lines_keep_values_exact() -> None:
    stream = io.BytesIO()
    configure_logging(LogSettings(), stream)
    get_logger("t").info("http.request", route="/a\x1b")
    assert orjson.loads(stream.getvalue())["route"] == "/a\x1b"  # JSON escapes it itself
    structlog.reset_defaults()


@pytest.fixture
def refusing_postgres(own_postgres: PostgresServer) -> PostgresServer:
    """A migrated database whose server refuses some writes, quoting the row: the message and
    the statement's parameters would carry the e-mail and the password hash."""
    upgrade(alembic_config(own_postgres.url()))
    own_postgres.psql(
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
        "IF NEW.email LIKE 'mallory%' THEN RAISE EXCEPTION 'refused %', NEW.email; END IF; "
        "RETURN NEW; END $$ LANGUAGE plpgsql; "
        "CREATE TRIGGER refuse BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse();"
    )
    return own_postgres


async def test_database_failures_leave_no_personal_data_in_the_log(
    refusing_postgres: PostgresServer, make_settings: SettingsFactory, logs: LogCapture
) -> None:
    own_postgres = refusing_postgres
    url = own_postgres.url()
    settings = make_settings(database=DatabaseSettings(url=url), security=security_settings())
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = {"email": "alice@example.com", "password": PASSWORD}
            assert (await client.post("/api/v1/users", json=body)).status_code == 201
            login = await client.post("/api/v1/auth/login", json=body)
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            refused = {"email": "mallory@example.com", "password": PASSWORD}
            assert (await client.post("/api/v1/users", json=refused)).status_code == 500

            own_postgres.stop()
            try:
                failures = [
                    await client.post("/api/v1/auth/login", json=body),
                    await client.get("/api/v1/users/me", headers=auth),
                    await client.post(
                        "/api/v1/users", json={"email": "dave@example.com", "password": PASSWORD}
                    ),
                ]
            finally:
                own_postgres.start()
    # The outage is a 503 each time, logged without a stack; the refused write is a 500 with one.
    assert [response.status_code for response in failures] == [503, 503, 503]

    text = logs.stream.getvalue().decode()
    tracebacks = [line for line in logs.lines() if "exception" in line]
    assert tracebacks  # the refused write's
    assert len([e for e in logs.events("http.error") if e["status"] == 503]) == 3
    assert "m***@example.com" in text  # the refusal's message was logged, masked
    assert not _UNMASKED_EMAIL.search(text), _UNMASKED_EMAIL.findall(text)
    assert "$argon2" not in text
    assert not re.search(r"\[parameters: [^*\]]", text)
