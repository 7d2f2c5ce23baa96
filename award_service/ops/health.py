"""Readiness: ``GET /readyz``, whether this node should be given traffic.

Liveness (``GET /healthz``, in :mod:`award_service.web`) says only that the
process answers; readiness asks the parts the service needs::

    {"status": "ok" | "degraded" | "fail",
     "checks": {"database": {"ok": true, ...}, "migrations": {...},
                "broker": {...}, "outbox": {"ok": ..., "pending": n, "oldest_seconds": s}}}

Only what stops the service from serving fails it (HTTP 503): the database
unreachable, or its schema not at the migrations' head.  The rest degrades it
(HTTP 200, so a load balancer keeps the node while registrations still work):
the broker unreachable, the outbox backlog (queued and sending) or the age of
its oldest message past ``AWARD_READY_OUTBOX_MAX_PENDING`` /
``AWARD_READY_OUTBOX_MAX_AGE_SECONDS``.  A later check (a read replica's lag)
is one more entry in :data:`SEVERITY` and one more function.

Every check is bounded in time: the database through a connection of its own
(connect timeout, statement timeout on PostgreSQL, busy timeout on SQLite), the
broker through socket timeouts, and the whole answer through a deadline
(:data:`DEADLINE_SECONDS`) after which a check still running is reported as
timed out.  So ``/readyz`` answers within about two seconds even when a part
hangs rather than refuses.  The body names no host, user or password (error
kinds only; the details go to the log when the status changes) and no
personal data; it is never cached, never rate-limited and needs no login.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ..config import PROJECT_ROOT
from ..extensions import db, limiter
from ..mail.models import OutboxMessage, OutboxStatus
from ..timeutil import utcnow

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

DEADLINE_SECONDS = 1.5  # the whole of /readyz's checks; the answer goes out just after
DB_CONNECT_TIMEOUT = 2  # seconds; libpq's smallest (the deadline above cuts it shorter)
DB_STATEMENT_TIMEOUT_MS = 1000
BROKER_TIMEOUT_SECONDS = 1.0
MIGRATIONS = PROJECT_ROOT / "migrations"

# What a check that is not ok does to the status.  "replica" (issue 15) will degrade.
SEVERITY = {"database": "fail", "migrations": "fail", "broker": "degraded", "outbox": "degraded"}
PENDING = (OutboxStatus.QUEUED.value, OutboxStatus.SENDING.value)


@bp.get("/readyz")
@limiter.exempt
def readyz():
    report = readiness(current_app)
    response = jsonify(report)
    response.status_code = 503 if report["status"] == "fail" else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def readiness(app) -> dict[str, Any]:
    """Run the checks for ``app`` (at most :data:`DEADLINE_SECONDS`) and say what they found."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    config = app.config
    pool = _executor()
    database: Future[dict[str, dict[str, Any]]] = pool.submit(
        _database_checks,
        _health_engine(app),
        int(config["AWARD_READY_OUTBOX_MAX_PENDING"]),
        int(config["AWARD_READY_OUTBOX_MAX_AGE_SECONDS"]),
    )
    broker_url = config.get("AWARD_CELERY_BROKER_URL") or ""
    broker: Future[dict[str, Any]] | None = pool.submit(_broker_check, broker_url) if broker_url else None

    checks: dict[str, dict[str, Any]] = {}
    found = _within(database, deadline)
    if found is None:
        checks["database"] = {"ok": False, "error": f"timed out after {DEADLINE_SECONDS} s"}
    else:
        checks.update(found)
    checks.setdefault("migrations", {"ok": False, "skipped": "the database did not answer"})
    if broker is None:
        checks["broker"] = {"ok": True, "configured": False}
    else:
        checks["broker"] = _within(broker, deadline) or {
            "ok": False,
            "configured": True,
            "error": f"timed out after {DEADLINE_SECONDS} s",
        }
    checks.setdefault("outbox", {"ok": False, "skipped": "the database did not answer"})

    checks = {name: checks[name] for name in SEVERITY}  # the documented order
    status = "ok"
    for name, result in checks.items():
        if not result["ok"]:
            if SEVERITY[name] == "fail":
                status = "fail"
                break
            status = "degraded"
    _log_change(app, status, checks)
    return {"status": status, "checks": checks}


def _within(future: Future, deadline: float) -> Any:
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        return None


# ---------------------------------------------------------------- the database


def _database_checks(engine: Engine, max_pending: int, max_age: int) -> dict[str, dict[str, Any]]:
    """database, migrations and outbox, on one connection of the health engine."""
    started = time.monotonic()
    try:
        connection = engine.connect()
    except Exception as exc:
        _remember_error("database", exc)
        return {"database": {"ok": False, "error": _kind(exc)}}
    with connection:
        try:
            connection.execute(text("SELECT 1"))
        except Exception as exc:
            _remember_error("database", exc)
            return {"database": {"ok": False, "error": _kind(exc)}}
        checks: dict[str, dict[str, Any]] = {
            "database": {
                "ok": True,
                "backend": engine.dialect.name,
                "latency_ms": round((time.monotonic() - started) * 1000, 1),
            }
        }
        checks["migrations"] = _migrations_check(connection)
        checks["outbox"] = _outbox_check(connection, max_pending, max_age)
        return checks


def _migrations_check(connection) -> dict[str, Any]:
    head = migration_heads()
    try:
        current = frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except Exception as exc:
        _remember_error("migrations", exc)
        connection.rollback()
        return {"ok": False, "current": None, "head": ",".join(sorted(head)), "error": "no migration applied"}
    return {"ok": current == head, "current": ",".join(sorted(current)) or None, "head": ",".join(sorted(head))}


@cache
def migration_heads(directory: Path = MIGRATIONS) -> frozenset[str]:
    """The head revision(s) of the migration scripts, read once per process."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(directory)).get_heads())


def _outbox_check(connection, max_pending: int, max_age: int) -> dict[str, Any]:
    try:
        pending, oldest = connection.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(PENDING))
        ).one()
    except Exception as exc:
        _remember_error("outbox", exc)
        connection.rollback()
        return {"ok": False, "pending": None, "oldest_seconds": None, "error": _kind(exc)}
    oldest_seconds = _age(oldest)
    return {
        "ok": pending <= max_pending and oldest_seconds <= max_age,
        "pending": pending,
        "oldest_seconds": oldest_seconds,
        "max_pending": max_pending,
        "max_age_seconds": max_age,
    }


def _age(oldest: datetime | None) -> int:
    if oldest is None:
        return 0
    return max(0, int((utcnow() - oldest).total_seconds()))


def _health_engine(app) -> Engine:
    """An engine of the health check's own, per app and process: a fresh connection
    each time (NullPool: nothing shared with the request pool, nothing to leak
    across a fork), connect and statement timeouts on PostgreSQL, a short busy
    timeout on SQLite.  An in-memory SQLite database exists only in the app's own
    engine, so that one is used as it is."""
    state = app.extensions.setdefault("award_health", {})
    key = (os.getpid(), app.config["SQLALCHEMY_DATABASE_URI"])
    engine = state.get(key)
    if engine is None:
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        if url.get_backend_name() == "sqlite":
            if url.database in (None, "", ":memory:"):
                with app.app_context():
                    return db.engine
            connect_args: dict[str, Any] = {"timeout": 1}
        else:
            connect_args = {
                "connect_timeout": DB_CONNECT_TIMEOUT,
                "options": f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS} -c lock_timeout={DB_STATEMENT_TIMEOUT_MS}",
                "application_name": "award-service readyz",
            }
        engine = state[key] = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    return engine


# ---------------------------------------------------------------- the broker


def _broker_check(url: str) -> dict[str, Any]:
    started = time.monotonic()
    try:
        _ping(url)
    except Exception as exc:
        _remember_error("broker", exc)
        return {"ok": False, "configured": True, "error": _kind(exc)}
    return {"ok": True, "configured": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def _ping(url: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        _redis_client(url).ping()
        return
    from kombu import Connection  # another broker Celery speaks (e.g. amqp://)

    with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as connection:
        connection.connect()


@cache
def _redis_client(url: str):
    """One client per URL and process (it keeps a small pool), without redis-py's
    own retries, so that one ping costs at most the socket timeouts."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )


# ---------------------------------------------------------------- plumbing

_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """Threads for the checks, made in the process that uses them (after a fork)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz"))
        return _pool[1]


def _kind(exc: BaseException) -> str:
    """What went wrong, without the message (which names hosts, ports and users)."""
    if isinstance(exc, TimeoutError) or "timeout" in type(exc).__name__.lower():
        return "timed out"
    original = getattr(exc, "orig", None)
    return type(original or exc).__name__


_last_errors: dict[str, str] = {}


def _remember_error(check: str, exc: BaseException) -> None:
    lines = str(exc).strip().splitlines()
    _last_errors[check] = f"{type(exc).__name__}: {lines[0] if lines else ''}"


def _log_change(app, status: str, checks: dict[str, dict[str, Any]]) -> None:
    """Log when this process's readiness changes (not at every probe)."""
    state = app.extensions.setdefault("award_health", {})
    previous = state.get("status")
    state["status"] = status
    if previous == status or (previous is None and status == "ok"):
        return
    failing = [
        f"{name} ({_last_errors.get(name) or result.get('error') or 'past its bound'})"
        for name, result in checks.items()
        if not result["ok"]
    ]
    level = logging.INFO if status == "ok" else logging.WARNING
    log.log(level, "readiness %s -> %s%s", previous or "start", status, ": " + "; ".join(failing) if failing else "")
