"""GET /readyz: each state for real, on SQLite and (TEST_DATABASE_URL) PostgreSQL.

The database unreachable is a PostgreSQL URL on a closed port, or on a port
that accepts connections and never answers (a hang, not a refusal); the
migrations behind are an older revision stamped into ``alembic_version``; the
broker unreachable is a closed port, or one that never answers; the outbox
backlog and age are rows in ``outbox_messages`` waiting for a retry.
"""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import text

from award_service.extensions import db
from award_service.mail.models import OutboxMessage
from award_service.ops import health
from award_service.timeutil import utcnow

CHECKS = ["database", "migrations", "broker", "outbox"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _silent_server():
    """A port that accepts TCP connections (the kernel's backlog) and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def _ready(client):
    started = time.monotonic()
    response = client.get("/readyz")
    return response, time.monotonic() - started


def _head() -> str:
    return ",".join(sorted(health.migration_heads()))


def test_ok_exactly_as_documented(app, client):
    response, elapsed = _ready(client)
    assert response.status_code == 200, response.text
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert list(body) == ["status", "checks"] and body["status"] == "ok"
    assert list(body["checks"]) == CHECKS
    database = body["checks"]["database"]
    assert database["ok"] is True and database["backend"] == db.engine.dialect.name
    assert body["checks"]["migrations"] == {"ok": True, "current": _head(), "head": _head()}
    assert body["checks"]["broker"] == {"ok": True, "configured": False}
    assert body["checks"]["outbox"] == {
        "ok": True,
        "pending": 0,
        "oldest_seconds": 0,
        "max_pending": 2000,
        "max_age_seconds": 900,
    }
    assert elapsed < 2


def test_needs_no_login_and_sets_no_cookie(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_an_unreachable_database_fails_with_its_own_json_503(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/award")
    response, elapsed = _ready(app.test_client())
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["status"] == "fail"
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["migrations"]["ok"] is False and "skipped" in body["checks"]["migrations"]
    assert body["checks"]["outbox"]["ok"] is False
    assert body["checks"]["broker"] == {"ok": True, "configured": False}
    assert "127.0.0.1" not in response.text and "postgres@" not in response.text  # no host, no user
    assert elapsed < 2.5


def test_a_database_that_hangs_is_cut_off_by_the_deadline(make_app):
    with _silent_server() as port:
        app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{port}/award")
        response, elapsed = _ready(app.test_client())
    assert response.status_code == 503
    assert response.json["status"] == "fail"
    assert response.json["checks"]["database"]["ok"] is False
    assert response.json["checks"]["database"]["error"] in ("timed out", f"timed out after {health.DEADLINE_SECONDS} s")
    assert health.DEADLINE_SECONDS - 0.1 <= elapsed < 2.5


@contextmanager
def _stamped(revision: str):
    """The test database's alembic_version set to ``revision``, put back afterwards
    (on PostgreSQL the database is shared by the whole run)."""
    with db.engine.begin() as conn:
        before = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    try:
        yield before
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": before})


def test_migrations_behind_head_fail(app, client):
    from alembic.script import ScriptDirectory

    head = _head()
    previous = ScriptDirectory(str(health.MIGRATIONS)).get_revision(head).down_revision
    assert previous
    with _stamped(previous):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "fail"
    assert response.json["checks"]["database"]["ok"] is True
    assert response.json["checks"]["migrations"] == {"ok": False, "current": previous, "head": head}
    assert client.get("/readyz").status_code == 200  # at head again


def test_an_unreachable_broker_degrades_but_keeps_200(make_app):
    app = make_app(AWARD_CELERY_BROKER_URL=f"redis://127.0.0.1:{_closed_port()}/0")
    response, elapsed = _ready(app.test_client())
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert response.json["checks"]["broker"] == {"ok": False, "configured": True, "error": "ConnectionError"}
    assert response.json["checks"]["database"]["ok"] is True
    assert elapsed < 2.5


def test_a_broker_that_hangs_degrades_within_the_deadline(make_app):
    with _silent_server() as port:
        app = make_app(AWARD_CELERY_BROKER_URL=f"redis://:secret-in-url@127.0.0.1:{port}/0")
        response, elapsed = _ready(app.test_client())
    assert response.status_code == 200 and response.json["status"] == "degraded"
    assert response.json["checks"]["broker"]["ok"] is False
    assert response.json["checks"]["broker"]["error"].startswith("timed out")
    assert "secret-in-url" not in response.text
    assert elapsed < 2.5


def test_another_broker_kind_is_asked_through_kombu(make_app):
    app = make_app(AWARD_CELERY_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{_closed_port()}//")
    response, elapsed = _ready(app.test_client())
    assert response.status_code == 200 and response.json["status"] == "degraded"
    assert response.json["checks"]["broker"]["ok"] is False
    assert elapsed < 2.5


def test_a_reachable_broker_is_ok(make_app):
    """The machine's Redis (DB 15): a PING, nothing written."""
    app = make_app(AWARD_CELERY_BROKER_URL="redis://127.0.0.1:6379/15")
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json["status"] == "ok"
    assert response.json["checks"]["broker"]["ok"] is True
    assert response.json["checks"]["broker"]["configured"] is True


def _waiting(n: int, *, age: timedelta = timedelta(0), status: str = "queued") -> None:
    """``n`` messages decided ``age`` ago and waiting for a retry an hour from now
    (as after SMTP failures), so that no sender takes them during the test."""
    now = utcnow()
    sent = status == "sent"
    for i in range(n):
        db.session.add(
            OutboxMessage(
                kind="registration_confirmation",
                to_address=f"waiting{i}@example.com",
                language="kk",
                params="{}",
                status=status,
                attempts=1,
                next_attempt_at=now + timedelta(hours=1),
                created_at=now - age,
                updated_at=now,
                sent_at=now - age if sent else None,
                subject="s" if sent else None,
                body_text="b" if sent else None,
            )
        )
    db.session.commit()


def test_an_outbox_backlog_past_its_bound_degrades(make_app):
    app = make_app(AWARD_READY_OUTBOX_MAX_PENDING=3)
    with app.app_context():
        _waiting(3)
        client = app.test_client()
        body = client.get("/readyz").json
        assert body["status"] == "ok" and body["checks"]["outbox"]["pending"] == 3  # at the bound: ok
        _waiting(1, status="sending")
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    outbox = response.json["checks"]["outbox"]
    assert outbox["ok"] is False and outbox["pending"] == 4 and outbox["max_pending"] == 3
    assert "example.com" not in response.text  # no recipient


def test_the_oldest_message_past_its_age_degrades(app, client):
    _waiting(1, age=timedelta(hours=2))
    _waiting(1, status="sent", age=timedelta(days=3))  # sent: not counted
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    outbox = response.json["checks"]["outbox"]
    assert outbox["ok"] is False and outbox["pending"] == 1
    assert 7200 <= outbox["oldest_seconds"] < 7200 + 60


def test_the_health_connection_is_bounded_on_postgresql(require_postgres, app):
    """The health check's own connection carries a statement timeout, so a query stuck
    behind a lock cannot hold /readyz."""
    engine = health._health_engine(app)
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "1s"
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "1s"


def test_a_locked_table_does_not_hold_readyz_on_postgresql(require_postgres, app, client):
    """Another transaction holds an exclusive lock on the outbox: the outbox check gives
    up at the lock timeout, /readyz still answers in time, the database itself is fine."""
    blocker = db.engine.connect()
    transaction = blocker.begin()
    try:
        blocker.execute(text("LOCK TABLE outbox_messages IN ACCESS EXCLUSIVE MODE"))
        response, elapsed = _ready(client)
    finally:
        transaction.rollback()
        blocker.close()
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert response.json["checks"]["database"]["ok"] is True
    assert response.json["checks"]["outbox"]["ok"] is False
    assert elapsed < 2.5


@pytest.mark.parametrize("path", ["/readyz", "/healthz"])
def test_probes_are_not_rate_limited(make_app, path):
    app = make_app(AWARD_RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute")
    client = app.test_client()
    assert [client.get(path).status_code for _ in range(5)] == [200] * 5
