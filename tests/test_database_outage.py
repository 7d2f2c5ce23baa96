"""When the database cannot answer, a request gets 503 with Retry-After, never a 500.

The pool does not ping a connection before lending it (that would be a round
trip on every request); a connection that died while it sat in the pool is
found by the request that uses it, which answers 503, and SQLAlchemy replaces
the pool's connections so the next request is served.  These tests break the
database for real: a server that refuses connections (any backend), and the
test database's own server-side sessions terminated under the app (PostgreSQL).
"""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import create_engine, func, select, text

from award_service.ceremonies.models import Registration
from award_service.errors import database_unavailable
from award_service.extensions import db

from .test_openapi import check

REGISTRATION = {"full_name": "Айгүл Серікқызы", "phone": "+77010000042", "category": "guest", "consent": True}


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def unreachable_app(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/award")
    return app


def test_an_unreachable_database_answers_503_with_retry_after(unreachable_app):
    client = unreachable_app.test_client()
    document = client.get("/api/v1/openapi.json").json  # needs no database
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    response = client.get("/api/v1/ceremonies")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json["error"]["code"] == "unavailable"
    assert response.json["error"]["message"] == "The service is briefly unavailable. Please try again in a minute."
    check(document, response, "/api/v1/ceremonies")

    response = client.post("/api/v1/ceremonies/1/registrations", json=REGISTRATION)
    assert response.status_code == 503 and response.json["error"]["code"] == "unavailable"
    check(document, response, "/api/v1/ceremonies/1/registrations", "POST")

    page = client.get("/", headers={"Accept-Language": "kk"})  # the public list, to a Kazakh browser
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert page.mimetype == "text/html"
    assert "Қызмет уақытша қолжетімсіз" in page.text
    assert client.get("/healthz").status_code == 200  # liveness needs no database


def test_what_counts_as_the_database_being_unavailable():
    from sqlalchemy import exc

    locked = exc.OperationalError("SELECT 1", {}, __import__("sqlite3").OperationalError("database is locked"))
    no_table = exc.OperationalError("SELECT 1", {}, __import__("sqlite3").OperationalError("no such table: x"))
    assert database_unavailable(locked)
    assert not database_unavailable(no_table)  # a bug, not an outage: stays a logged 500
    assert database_unavailable(exc.TimeoutError("QueuePool limit reached"))
    assert not database_unavailable(exc.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not database_unavailable(ValueError("x"))


def _terminate_sessions(url: str) -> int:
    """End every server session on the test database but the one asking (as a
    restart or a failover would); other databases on the server are untouched."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        admin.dispose()


def test_a_connection_that_died_in_the_pool_costs_one_503_then_the_pool_recovers(
    require_postgres, db_url, app, client, make_ceremony
):
    ceremony_id = make_ceremony(capacity=5).id
    db.session.close()
    assert client.get("/api/v1/ceremonies").status_code == 200  # the pool now holds a live connection

    assert _terminate_sessions(db_url) >= 1
    response = client.post(f"/api/v1/ceremonies/{ceremony_id}/registrations", json=REGISTRATION)
    assert response.status_code == 503, response.text
    assert response.json["error"]["code"] == "unavailable" and response.headers["Retry-After"] == "5"
    db.session.close()
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0  # nothing half-written

    response = client.post(f"/api/v1/ceremonies/{ceremony_id}/registrations", json=REGISTRATION)
    assert response.status_code == 201, response.text  # a fresh connection, no restart of the app
    db.session.close()
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 1

    assert _terminate_sessions(db_url) >= 1
    assert client.get(f"/ceremonies/{ceremony_id}").status_code == 503  # an HTML page: the error page
    assert client.get(f"/ceremonies/{ceremony_id}").status_code == 200
