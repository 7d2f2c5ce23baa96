"""When the database cannot answer, a request gets 503 with Retry-After, never a 500.

The pool does not ping a connection before lending it (that would be a round
trip on every request): a connection the server closed while it sat in the
pool is dropped when it is lent, without a round trip (a poll of its socket);
one that dies while a request uses it makes that request answer 503, and
SQLAlchemy replaces the pool's connections so the next request is served.
These tests break the database for real: a server that refuses connections or
never answers (any backend), and the test database's own server-side sessions
terminated under the app (PostgreSQL).  tests/faults stops and starts a whole
cluster under gunicorn (AWARD_FAULTS=1).
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time

import psycopg
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy import exc as sa_exc

from award_service.ceremonies.models import Registration
from award_service.config import engine_options
from award_service.errors import database_unavailable
from award_service.extensions import db
from award_service.http import rollback_quietly

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


def test_a_logged_in_organiser_gets_the_plain_503_page_not_a_500(make_app, make_user, login, client):
    """The error page names the logged-in user in its header: drawing it loaded
    the user from the database, which could not answer, and the error handler
    failed with a 500.  While the database is away every page is the plain one."""
    organiser = make_user("organiser", name="Гүлмира Сейітқызы")
    login(organiser)
    cookie = client.get_cookie("session")
    assert cookie is not None
    down = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/award")
    browser = down.test_client()
    browser.set_cookie("session", cookie.value, domain=cookie.domain)
    for path, language, message in [
        ("/staff/", "ru", "Сервис временно недоступен"),  # a page that needs the logged-in user
        ("/staff/ceremonies/1", "kk", "Қызмет уақытша қолжетімсіз"),
        ("/", "ru", "Сервис временно недоступен"),  # public, with a staff cookie
        ("/no-such-page", "kk", "Қызмет уақытша қолжетімсіз"),  # a 404 whose page needs the user
    ]:
        page = browser.get(path, headers={"Accept-Language": language})
        assert page.status_code == 503, (path, page.status_code, page.text[:300])
        assert page.headers["Retry-After"] == "5" and page.mimetype == "text/html"
        assert message in page.text, path
        assert "Гүлмира" not in page.text and "Traceback" not in page.text


def test_a_rate_limited_route_keeps_the_503_retry_after(make_app):
    """Flask-Limiter sets Retry-After on every answer of a limited route to the
    end of its window (up to a minute): a 503 still asks again in 5 seconds."""
    down = make_app(
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/award",
        AWARD_RATELIMIT_ENABLED=True,
        RATELIMIT_ENABLED=True,
    )
    response = down.test_client().post("/api/v1/ceremonies/1/registrations", json=REGISTRATION)
    assert response.status_code == 503 and response.json["error"]["code"] == "unavailable"
    assert "X-RateLimit-Limit" in response.headers  # the limiter did run on it
    assert response.headers["Retry-After"] == "5"


def _silent_server():
    """A loopback port that accepts connections and never says a word (a hung
    server, a half-open network path); returns (port, stop)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stopping = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stopping.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()

    def stop():
        stopping.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()

    return listener.getsockname()[1], stop


def test_a_server_that_never_answers_is_a_503_in_seconds(make_app):
    """psycopg waits 130 s for a server by default, longer than gunicorn lets a
    worker live (30 s): the connect timeout makes it a 503 instead."""
    port, stop = _silent_server()
    try:
        app = make_app(
            SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{port}/award",
            SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},  # psycopg's least; the default is 5
        )
        started = time.monotonic()
        response = app.test_client().get("/api/v1/ceremonies")
        elapsed = time.monotonic() - started
    finally:
        stop()
    assert response.status_code == 503 and response.json["error"]["code"] == "unavailable"
    assert 1.5 < elapsed < 10, elapsed


def test_engine_options_bound_the_connect_wait_and_hide_bound_values():
    pg = engine_options("postgresql+psycopg://db/award", {})
    assert pg == {"hide_parameters": True, "connect_args": {"connect_timeout": 5}}
    assert engine_options("sqlite:///x.db", {})["connect_args"] == {"timeout": 30}
    given = {"hide_parameters": False, "pool_size": 3, "connect_args": {"connect_timeout": 9, "sslmode": "require"}}
    assert engine_options("postgresql+psycopg://db/award", given) == given  # what is set stays as set


def test_database_errors_in_logs_carry_no_bound_values(app):
    """An unexpected database error is logged with its message: the values bound
    to the statement (names, phones: personal data) are not in it."""
    with pytest.raises(sa_exc.DBAPIError) as caught:
        db.session.execute(
            text("SELECT no_such_column FROM ceremonies WHERE title_kk = :v"), {"v": "Айгүл +77010000042"}
        )
    db.session.rollback()
    assert "Айгүл" not in str(caught.value) and "+77010000042" not in str(caught.value)
    assert "hidden" in str(caught.value)


def test_what_counts_as_the_database_being_unavailable():
    from sqlalchemy import exc

    locked = exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))
    no_table = exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x"))
    assert database_unavailable(locked)
    assert not database_unavailable(no_table)  # a bug, not an outage: stays a logged 500
    assert database_unavailable(exc.TimeoutError("QueuePool limit reached"))
    assert not database_unavailable(exc.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not database_unavailable(ValueError("x"))
    # The driver's own errors, not wrapped by SQLAlchemy (COPY on the raw connection).
    assert database_unavailable(psycopg.OperationalError("consuming input failed: server closed the connection"))
    assert database_unavailable(psycopg.errors.AdminShutdown("terminating connection due to administrator command"))
    assert database_unavailable(psycopg.errors.CannotConnectNow("the database system is starting up"))
    assert not database_unavailable(psycopg.errors.UniqueViolation("duplicate key"))
    assert database_unavailable(sqlite3.OperationalError("database is locked"))
    assert not database_unavailable(sqlite3.OperationalError("no such column: x"))
    # An error raised while handling an outage (its cause or context) is the outage, unless its context was dropped.
    outage = psycopg.OperationalError("server closed the connection unexpectedly")
    cleaning_up = RuntimeError("while cleaning up")
    cleaning_up.__cause__ = outage
    assert database_unavailable(cleaning_up)
    bug = KeyError("a bug")
    bug.__context__, bug.__suppress_context__ = outage, True  # raise KeyError(...) from None
    assert not database_unavailable(bug)
    bug.__suppress_context__ = False
    assert database_unavailable(bug)


def _terminate_sessions(url: str, only_pid: int | None = None) -> int:
    """End every server session on the test database but the one asking (as a
    restart or a failover would), or only ``only_pid``; waits until they are
    gone.  Other databases on the server are untouched."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        " AND (CAST(:only AS integer) IS NULL OR pid = :only)"
                    ),
                    {"only": only_pid},
                ).all()
            )
    finally:
        admin.dispose()


def _count_registrations() -> int:
    db.session.close()
    return db.session.scalar(select(func.count()).select_from(Registration))


def test_a_connection_that_dies_while_held_costs_that_request_a_503_then_the_pool_recovers(
    require_postgres, db_url, app, client, make_ceremony
):
    """The test's app context spans its requests, so the session keeps its
    connection from one request to the next: killed under it, the request that
    uses it answers 503 (nothing half-written) and the next one is served."""
    ceremony_id = make_ceremony(capacity=5).id
    db.session.close()
    assert client.get("/api/v1/ceremonies").status_code == 200  # the session now holds a live connection

    assert _terminate_sessions(db_url) >= 1
    response = client.post(f"/api/v1/ceremonies/{ceremony_id}/registrations", json=REGISTRATION)
    assert response.status_code == 503, response.text
    assert response.json["error"]["code"] == "unavailable" and response.headers["Retry-After"] == "5"
    assert _count_registrations() == 0  # nothing half-written

    response = client.post(f"/api/v1/ceremonies/{ceremony_id}/registrations", json=REGISTRATION)
    assert response.status_code == 201, response.text  # a fresh connection, no restart of the app
    assert _count_registrations() == 1

    client.get(f"/ceremonies/{ceremony_id}")
    assert _terminate_sessions(db_url) >= 1
    assert client.get(f"/ceremonies/{ceremony_id}").status_code == 503  # an HTML page: the plain page
    assert client.get(f"/ceremonies/{ceremony_id}").status_code == 200


@pytest.fixture
def served(require_postgres, make_app):
    """An app whose every request has its own app context, as under gunicorn:
    the session is closed at the end of each, its connection back in the pool."""
    return make_app()


def _lose_connection() -> str:
    """Test view: read in a transaction, then have the server end this very connection."""
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    _terminate_sessions(db.engine.url.render_as_string(hide_password=False), only_pid=pid)
    return "read, then lost"


def test_a_pooled_connection_the_server_closed_is_replaced_without_a_503(served, db_url, app, make_ceremony):
    """A restart closes the connections waiting in the pool: the pool sees it
    when it lends one (a poll, no round trip) and opens a fresh one, so the
    first request after the restart is served, not answered 503."""
    ceremony_id = make_ceremony(capacity=5).id
    db.session.close()
    client = served.test_client()
    assert client.get("/api/v1/ceremonies").status_code == 200  # the connection is back in the pool
    assert _terminate_sessions(db_url) >= 1
    response = client.post(f"/api/v1/ceremonies/{ceremony_id}/registrations", json=REGISTRATION)
    assert response.status_code == 201, response.text
    assert _count_registrations() == 1


def test_a_connection_lost_after_the_answer_was_made_does_not_turn_it_into_a_500(served, db_url):
    """The session is closed after the answer is made (teardown); its rollback
    fails on a connection the server has ended, and that error used to escape
    the app (gunicorn then sent a 500 instead of the page already made)."""
    served.add_url_rule("/_test/lose-connection", "lose_connection", _lose_connection)
    client = served.test_client()
    response = client.get("/_test/lose-connection")
    assert response.status_code == 200 and response.text == "read, then lost"
    assert client.get("/api/v1/ceremonies").status_code == 200


def test_rollback_quietly_discards_a_session_whose_connection_is_dead(served, db_url):
    with served.test_request_context("/"):
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _terminate_sessions(db_url, only_pid=pid)
        rollback_quietly()  # raised OperationalError before: the connection is gone
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid  # a fresh connection
        db.session.remove()
