"""Database errors by what they mean for the client: 503, 4xx, or a bug (500)."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa

from example_service.db.errors import counts_against_database, is_unavailable
from example_service.errors.translate import problem_for
from example_service.resilience.breaker import BreakerOpenError


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _dbapi(kind: type[sa.DBAPIError], sqlstate: str = "XX000") -> sa.DBAPIError:
    return kind("SELECT 1", {}, _DriverError(sqlstate))


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ConnectionRefusedError(111, "refused"), 503),
        (TimeoutError(), 503),
        (sa.TimeoutError("QueuePool limit reached"), 503),
        (BreakerOpenError("db", 2.2), 503),
        (_dbapi(sa.OperationalError), 503),
        (_dbapi(sa.InterfaceError), 503),
        (_dbapi(sa.DBAPIError, "57014"), 503),  # statement timeout
        (_dbapi(sa.DBAPIError, "08006"), 503),  # connection failure
        (_dbapi(sa.DBAPIError, "53300"), 503),  # too many connections
        (_dbapi(sa.IntegrityError, "23505"), 409),
        (_dbapi(sa.DataError, "22001"), 422),
        (_dbapi(sa.ProgrammingError, "42P01"), 500),
        (_dbapi(sa.DBAPIError, "XX000"), 500),
    ],
)
def test_status_by_error(error: BaseException, status: int) -> None:
    problem = problem_for(error)
    assert problem.status == status
    if status == 503:
        assert is_unavailable(error)
        assert int(problem.headers["Retry-After"]) >= 1


def test_an_open_breaker_says_when_to_come_back() -> None:
    assert problem_for(BreakerOpenError("db", 2.2)).headers["Retry-After"] == "3"


def test_what_counts_against_the_breaker() -> None:
    assert counts_against_database(ConnectionRefusedError())
    assert counts_against_database(_dbapi(sa.DBAPIError, "57014"))
    # Busy here, not down there; and an open breaker is not a new failure.
    assert not counts_against_database(sa.TimeoutError("pool"))
    assert not counts_against_database(BreakerOpenError("db", 1))
    assert not counts_against_database(_dbapi(sa.IntegrityError, "23505"))
