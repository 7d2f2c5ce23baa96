"""Fixtures: a migrated database per test run, a clean one per test.

SQLite (default): the schema is migrated once into a template file, copied for
every test.  PostgreSQL (``TEST_DATABASE_URL=postgresql://…/anydb``): a fresh
database ``award_test_<random>`` is created on that server for the run, migrated,
emptied between tests and dropped at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from award_service import create_app, mail
from award_service.actor import Actor
from award_service.config import normalise_database_url
from award_service.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
SEED_DISTRICTS = ("zhezkazgan", "satbayev", "karazhal", "ulytau", "zhanaarka")
PASSWORD = "correct-horse-battery"
BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "AWARD_RATELIMIT_ENABLED": False,
    "AWARD_BASE_URL": "http://award.test",
    # Passwords hashed at argon2's lowest cost (~30 us, not ~0.1-0.4 s a hash and a login);
    # production keeps the library's default (test_accounts checks that it does).
    "AWARD_ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
    # Mail is not held back while the machine is busy (the suite keeps it busy);
    # tests/test_mail_giveway.py tests the holding itself.
    "AWARD_MAIL_GIVE_WAY_CPU": 0,
    # No timer sweep: a test's first request would start one (mail.serve) and send the
    # messages a test leaves queued on purpose; tests/test_mail_resilience.py tests the timer.
    "AWARD_MAIL_SWEEP_SECONDS": 0,
}


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """The URL of a migrated database for this run, and how to reset it."""
    instance = tmp_path_factory.mktemp("instance")
    os.environ["AWARD_INSTANCE_PATH"] = str(instance)
    if TEST_DATABASE_URL:
        server = make_url(normalise_database_url(TEST_DATABASE_URL))
        # One database per run, and per pytest-xdist worker (each is its own session), named
        # award_test_[<tag>_][<worker>_]<random>: .ci/run sets AWARD_TEST_DB_TAG to find and drop
        # what a run killed at its time limit left behind.
        parts = [os.environ.get("AWARD_TEST_DB_TAG", ""), os.environ.get("PYTEST_XDIST_WORKER", "")]
        name = "_".join(
            ["award_test", *(re.sub(r"[^a-z0-9]", "", p.lower()) for p in parts if p), uuid.uuid4().hex[:12]]
        )
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        _migrate(url, instance)
        yield {"url": url, "kind": "postgresql", "template": None}
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        template = instance / "template.sqlite3"
        _migrate(f"sqlite:///{template}", instance)
        yield {"url": None, "kind": "sqlite", "template": template}


def _reset_sql() -> tuple[str, ...]:
    """Empty every table of the models but the seeded districts (tables added
    later are included without a list to keep up to date)."""
    import award_service.models  # noqa: F401  (every table)

    tables = sorted(t.name for t in db.metadata.sorted_tables if t.name != "districts")
    return (
        f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE",
        "DELETE FROM districts WHERE code NOT IN ({})".format(", ".join(f"'{c}'" for c in SEED_DISTRICTS)),
    )


RESET_SQL = _reset_sql()


@pytest.fixture
def db_url(database, tmp_path):
    if database["kind"] == "postgresql":
        engine = create_engine(database["url"])
        with engine.begin() as conn:
            for statement in RESET_SQL:
                conn.execute(text(statement))
        engine.dispose()
        return database["url"]
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(database["template"], path)
    return f"sqlite:///{path}"


@pytest.fixture
def make_app(db_url):
    """Build an app on this test's database with extra config."""
    apps = []

    def factory(**config):
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": db_url, **config})
        apps.append(app)
        return app

    yield factory
    for app in apps:
        # The mail threads first: one holding a connection across the dispose would leave it open.
        mail.shutdown(app)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def system():
    return Actor.system("test")


@pytest.fixture
def make_user(app, system):
    from award_service.accounts.service import create_user

    counter = iter(range(1, 10_000))

    def factory(*roles, district=None, email=None, name=None, password=PASSWORD):
        n = next(counter)
        return create_user(
            db.session,
            system,
            email=email or f"user{n}-{'-'.join(roles)}@example.com",
            name=name or f"User {n}",
            roles=list(roles),
            district=district,
            password=password,
        )

    return factory


@pytest.fixture
def login(client):
    def do(user, password=PASSWORD):
        response = client.post("/staff/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.text
        return user

    return do


@pytest.fixture
def token_for(app, system):
    from award_service.accounts.service import create_api_token

    def make(user):
        return {"Authorization": f"Bearer {create_api_token(db.session, system, user)}"}

    return make


def future(days: int = 30, hour: int = 19) -> str:
    """A local (Kazakhstan) ISO time ``days`` from now."""
    day = datetime.now(UTC) + timedelta(days=days)
    return day.strftime(f"%Y-%m-%dT{hour:02d}:00")


@pytest.fixture
def make_ceremony(app, system):
    from award_service.ceremonies.service import create_ceremony

    def factory(**overrides):
        data = {
            "title_kk": "Ұлы Жеңіс — ұрпаққа мұра",
            "title_ru": "Великая Победа — наследие поколениям",
            "starts_at": future(),
            "venue": "Алаш алаңы",
            "address": "Жезқазған",
            "district": "zhezkazgan",
            "capacity": 20,
            "status": "published",
        }
        data.update(overrides)
        return create_ceremony(db.session, system, data, tz=app.config["AWARD_TIMEZONE"])

    return factory


def registration_data(**overrides) -> dict:
    data = {
        "full_name": "Жанболат Әбенов",
        "phone": "+7 701 234 56 78",
        "email": "",
        "companions": "0",
        "category": "veteran",
        "consent": "y",
    }
    data.update(overrides)
    return data


def form_errors(html: str) -> list[str]:
    return re.findall(r'<p class="error" id="([a-z_]+)-error">', html)


@pytest.fixture
def require_postgres(database):
    """Tests of concurrency guarantees run on PostgreSQL (CI sets TEST_DATABASE_URL)."""
    if database["kind"] != "postgresql":
        if os.environ.get("AWARD_REQUIRE_POSTGRES") == "1":
            pytest.fail("AWARD_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not a PostgreSQL URL")
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def en_client(client):
    """The test client with English chosen, for tests that read English messages."""
    with client.session_transaction() as session:
        session["lang"] = "en"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the API follows Accept-Language
    return client


@pytest.fixture
def live_server(make_app, database):
    """The app on this test's database behind a real threaded HTTP server on
    loopback, with a connection pool large enough for concurrency tests."""
    import threading

    from werkzeug.serving import make_server

    options = (
        {"pool_size": 30, "max_overflow": 20, "pool_timeout": 60}
        if database["kind"] == "postgresql"
        else {"connect_args": {"timeout": 60}}
    )
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=options)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
