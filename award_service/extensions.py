"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

import select
import sqlite3
from typing import TYPE_CHECKING, Any, TypeAlias

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.pool import Pool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def sql_in(column: str, values) -> str:
    """``column IN ('a', 'b')`` for CHECK constraints that keep states valid."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def for_dialect(dialect_name: str):
    """Alembic ``include_object``: leave out schema objects declared for another
    database only (``Index(...).ddl_if(dialect="postgresql")``), so that
    autogenerate and schema checks on SQLite do not ask for them."""

    def include_object(obj, name, type_, reflected, compare_to):
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect is None or condition.dialect == dialect_name

    return include_object


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
# What the services take: a session, or ``db.session`` (the request's scoped session).
DbSession: TypeAlias = Session | scoped_session[Any]
# The models' base class: ``db.Model`` at run time; mypy cannot use an attribute as a base class,
# so it sees the declarative base that ``db.Model`` derives from.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite (the embedded default): enforce foreign keys; WAL lets readers
    carry on while one request writes."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()


@event.listens_for(Pool, "checkout")
def _drop_closed_connection(dbapi_connection, connection_record, connection_proxy):
    """PostgreSQL: a pooled connection the server has closed (a restart, a
    shutdown, a terminated backend) is replaced before it is lent, without a
    round trip: an idle connection has nothing to read unless the server has
    sent its goodbye (``FATAL: terminating connection …``) or closed the socket,
    which one ``poll`` with no wait shows.  SQLAlchemy then opens a fresh one (or
    raises the server's refusal, a 503).  Unlike ``pool_pre_ping`` this costs a
    system call, not a round trip; a connection lost silently (the network) is
    still found by its first statement (503, and the pool is invalidated)."""
    pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg 3; SQLite has none
    if pgconn is None:
        return
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    try:
        fd = pgconn.socket
    except Exception as exc:  # psycopg.OperationalError: the connection is lost
        raise DisconnectionError("the connection has no socket") from exc
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        raise DisconnectionError("the server closed this idle connection")
