"""Which database errors mean "the database is not there" (a 503, a breaker failure) and which
are the request's own doing (a 4xx) or a bug (a 500).

Connection refused or reset, a connect or statement timeout, a connection that died under a
query: the database cannot answer now, and the same request may succeed in a moment. The
driver raises some of these unwrapped (asyncpg's connect raises OSError and TimeoutError), and
SQLAlchemy wraps the rest as DBAPIError with `connection_invalidated`, or as OperationalError.
An integrity or data error is about the values sent; a programming error is a bug.
"""

from __future__ import annotations

from sqlalchemy import exc as sa

from example_service.resilience.breaker import BreakerOpenError

# PostgreSQL SQLSTATE classes that mean "not now": connection exception (08), insufficient
# resources (53, too many connections), operator intervention (57: shutting down, starting up,
# a statement cancelled by statement_timeout), system error (58).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57", "58")


def is_unavailable(error: BaseException) -> bool:
    """The database did not answer (or its breaker is open): retry later, elsewhere."""
    if isinstance(error, BreakerOpenError | OSError | TimeoutError | sa.TimeoutError):
        return True
    if isinstance(error, sa.IntegrityError | sa.DataError | sa.ProgrammingError):
        return False
    if isinstance(error, sa.DBAPIError):
        if error.connection_invalidated or isinstance(
            error, sa.OperationalError | sa.InterfaceError
        ):
            return True
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATE_CLASSES)
    return False


def counts_against_database(error: BaseException) -> bool:
    """Whether `error` is a failure of the database itself, for its breaker.

    A pool checkout timeout is not: the database may be fine and this process busy; it is
    answered 503 all the same.
    """
    return is_unavailable(error) and not isinstance(error, BreakerOpenError | sa.TimeoutError)
