"""Domain errors: raised by services, turned into a form error or a JSON 4xx."""

from __future__ import annotations

import sqlite3

from flask_babel import lazy_gettext as _l
from sqlalchemy import exc as sa_exc


class DomainError(Exception):
    status = 400
    code = "bad_request"
    default_message = _l("The request could not be processed.")

    def __init__(self, message=None, *, code: str | None = None, fields: dict | None = None, **extra):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.fields = fields or {}
        self.extra = extra
        super().__init__(str(self.message))

    def with_status(self, status: int) -> DomainError:
        self.status = status
        return self

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": str(self.message), "fields": {k: str(v) for k, v in self.fields.items()}}
        body.update(self.extra)
        return {"error": body}


class ValidationFailed(DomainError):
    status = 422
    code = "invalid"
    default_message = _l("Some fields need correcting.")

    def __init__(self, fields: dict, message=None):
        super().__init__(message, fields=fields)


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _l("Not found.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("You do not have permission to do this.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _l("This conflicts with the current state; reload and try again.")


# Seconds a client is asked to wait (Retry-After) when the database cannot answer.
DATABASE_RETRY_AFTER = 5


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not answer now, rather than that
    the request or the code is wrong: a connection that died (the server
    restarted or shut down, a proxy dropped it), a server that refuses
    connections or is starting up, a pool with no free connection in time, a
    transaction that lost a serialization race; on SQLite, a database locked by
    another writer.  The driver's own error counts too when it was not wrapped
    by SQLAlchemy (e.g. COPY on the raw connection), and so does an error raised
    while handling one of these (its ``__cause__`` or ``__context__``).

    The pool does not ping each connection before lending it (a round trip on
    every request; ``extensions`` drops a connection the server has already
    closed without one); a connection found dead is invalidated with the rest of
    the pool by SQLAlchemy, the request that found it answers 503 with
    Retry-After, and the next one gets a fresh connection."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 10:
        seen.add(id(current))
        if _unavailable_here(current):
            return True
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return False


def _unavailable_here(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if not isinstance(exc, sa_exc.OperationalError):
            return False
        return _sqlite_busy(exc.orig) if isinstance(exc.orig, sqlite3.Error) else True
    if isinstance(exc, sqlite3.Error):
        return _sqlite_busy(exc)
    if type(exc).__module__.startswith("psycopg"):
        import psycopg

        # psycopg's OperationalError: connection failures, shutdowns, start-up,
        # serialization and deadlock, timeouts.
        return isinstance(exc, psycopg.OperationalError)
    return False


def _sqlite_busy(exc: BaseException | None) -> bool:
    """SQLite's OperationalError is an outage only when the database is locked or busy (others are bugs)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return "locked" in text or "busy" in text
