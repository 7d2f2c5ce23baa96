"""AWARD_ENV=production refuses to start on a missing secret key, an SQLite
database or a default administrator password, each with one line saying what is
wrong and what to do.

Configuration refusals come from ``create_app`` (so every entry point refuses);
they are checked here through the factory and through a real ``flask`` process.
Database refusals come from ``flask --app award_service production check`` (run by
systemd's ExecStartPre and ``make serve``), checked on the test database (SQLite,
and PostgreSQL with TEST_DATABASE_URL).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from award_service import create_app
from award_service.accounts.models import User
from award_service.accounts.service import update_user
from award_service.actor import Actor
from award_service.config import ConfigError
from award_service.demo import DEMO_PASSWORD
from award_service.extensions import db
from award_service.ops import health
from award_service.ops.production import database_findings
from award_service.timeutil import utcnow

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")
PG = "postgresql://award@127.0.0.1:5432/award"  # never connected to by create_app


@pytest.fixture
def production(tmp_path, monkeypatch):
    """The environment of a production start, to be spoiled one variable at a time."""
    monkeypatch.setenv("AWARD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("AWARD_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-stable-production-secret")
    monkeypatch.setenv("DATABASE_URL", PG)
    monkeypatch.delenv("AWARD_ADMIN_PASSWORD", raising=False)
    return monkeypatch


def _refusal(**overrides) -> str:
    with pytest.raises(ConfigError) as info:
        create_app(overrides or None)
    message = str(info.value)
    assert "\n" not in message, message  # one line
    return message


def test_a_sound_production_configuration_starts(production):
    app = create_app()
    assert app.config["AWARD_ENV"] == "production"
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_missing_secret_key(production, tmp_path):
    production.delenv("SECRET_KEY")
    message = _refusal()
    assert message.startswith("SECRET_KEY is not set: set it in the environment or in ")
    assert not (tmp_path / "config.py").exists()  # production never generates one


def test_sqlite(production):
    production.delenv("DATABASE_URL")
    message = _refusal()
    assert message == (
        "the database is SQLite, which production does not run on: "
        "set DATABASE_URL=postgresql://USER@HOST/DBNAME (README, Deployment)"
    )
    production.setenv("DATABASE_URL", "sqlite:////var/lib/award-service/award.sqlite3")
    assert _refusal() == message


@pytest.mark.parametrize(
    "password, what",
    [
        (DEMO_PASSWORD, "the demo password, published in the README"),
        ("Password123", "a well-known password"),
        ("short-pw", "shorter than 10 characters"),
    ],
)
def test_a_default_admin_password_in_the_environment(production, password, what):
    production.setenv("AWARD_ADMIN_PASSWORD", password)
    assert _refusal() == (
        f"AWARD_ADMIN_PASSWORD is {what}: remove it from the environment "
        "(flask --app award_service users ensure-admin then prints a generated one) or set a long random one"
    )
    production.setenv("AWARD_ADMIN_PASSWORD", "kN3v-8qzX-Lm2p-Wt7r")
    assert create_app().config["AWARD_ENV"] == "production"


def test_development_refuses_none_of_it(production):
    production.setenv("AWARD_ENV", "development")
    production.delenv("DATABASE_URL")
    production.setenv("AWARD_ADMIN_PASSWORD", DEMO_PASSWORD)
    assert create_app().config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def _flask(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FLASK, "--app", "award_service", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_flask_command_prints_the_refusal_as_one_line(production, tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    result = _flask("production", "check", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "Error: the database is SQLite, which production does not run on: "
        "set DATABASE_URL=postgresql://USER@HOST/DBNAME (README, Deployment)"
    ]


# ------------------------------------------------------------------ the database check


def _check(runner, app, *, production: bool = True):
    app.config["AWARD_ENV"] = "production" if production else "development"
    try:
        return runner.invoke(args=["production", "check"])
    finally:
        app.config["AWARD_ENV"] = "development"


def test_a_fresh_install_passes_and_warns_about_the_one_time_password(app, runner, monkeypatch):
    monkeypatch.delenv("AWARD_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("AWARD_ADMIN_EMAIL", "it@akimat.example.kz")
    assert runner.invoke(args=["users", "ensure-admin"]).exit_code == 0
    result = _check(runner, app)
    assert result.exit_code == 0, result.output
    admin_id = db.session.scalar(db.select(User.id).where(User.email == "it@akimat.example.kz"))
    assert (
        f"warning: the administrator account id {admin_id} has the one-time password printed 0 h ago" in result.output
    )
    assert "production check: ok" in result.output
    assert "it@akimat.example.kz" not in result.output  # the journal gets no e-mail


def test_the_one_time_password_unchanged_after_a_day_is_refused(app, runner, monkeypatch):
    monkeypatch.delenv("AWARD_ADMIN_PASSWORD", raising=False)
    assert runner.invoke(args=["users", "ensure-admin"]).exit_code == 0
    admin = db.session.scalar(db.select(User).where(User.email == "admin@example.com"))
    findings = database_findings(db.session, now=utcnow() + timedelta(hours=25))
    assert findings.warnings == []
    [line] = findings.refusals
    assert line.startswith(f"the administrator account id {admin.id} still has the one-time password printed ")
    assert line.endswith(
        f"UTC: log in and change it, or set one with flask --app award_service users password --id {admin.id} --prompt"
    )

    # The administrator chooses a password (the user page): nothing to refuse any more.
    update_user(db.session, Actor(admin, None), admin, {"password": "a-password-of-my-own"})
    assert database_findings(db.session, now=utcnow() + timedelta(days=30)).refusals == []

    # A lost password replaced by a generated one is one-time again; one typed at the prompt is not.
    assert runner.invoke(args=["users", "password", "--id", str(admin.id)]).exit_code == 0
    assert len(database_findings(db.session, now=utcnow() + timedelta(days=2)).refusals) == 1
    typed = runner.invoke(
        args=["users", "password", "--id", str(admin.id), "--prompt"],
        input="typed-at-the-prompt\ntyped-at-the-prompt\n",
    )
    assert typed.exit_code == 0, typed.output
    assert "typed-at-the-prompt" not in typed.output
    assert database_findings(db.session, now=utcnow() + timedelta(days=2)).refusals == []
    assert runner.invoke(args=["users", "password", "--id", "999999"]).exit_code != 0


@pytest.mark.parametrize(
    "password, what", [(DEMO_PASSWORD, "the demo password"), ("qwertyuiop", "a well-known password")]
)
def test_an_administrator_on_a_default_password_is_refused(app, runner, make_user, password, what):
    make_user("organiser", password=DEMO_PASSWORD)  # not an administrator: not asked
    admin = make_user("admin", password=password)
    make_user("admin", password="a-sound-password")
    result = _check(runner, app)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"refused: the administrator account id {admin.id} has {what}: "
        f"set another with flask --app award_service users password --id {admin.id} --prompt"
    ]
    # The same outside production: said, not refused (make serve goes on).
    result = _check(runner, app, production=False)
    assert result.exit_code == 0
    assert f"development; production would refuse: the administrator account id {admin.id} has {what}" in result.output

    admin.active = False  # a deactivated administrator cannot log in
    db.session.commit()
    assert _check(runner, app).exit_code == 0


def test_migrations_not_at_head_are_refused(app, runner):
    from alembic.script import ScriptDirectory

    head = ",".join(sorted(health.migration_heads()))
    previous = ScriptDirectory(str(health.MIGRATIONS)).get_revision(head).down_revision
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": previous})
    try:
        result = _check(runner, app)
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": head})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"refused: the database is at migration {previous} but this release needs {head}: "
        "run flask --app award_service db upgrade (README, upgrade)"
    ]


def test_a_database_that_does_not_answer_does_not_stop_the_start(make_app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{port}/award")
    app.config["AWARD_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["production", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "production check: the database does not answer now; starting anyway "
        "(the service answers 503 until it does; its checks run at the next start)"
    )


def test_the_user_history_says_one_time(app, runner, client, make_user, login):
    admin = make_user("admin")
    login(admin)
    assert runner.invoke(args=["users", "password", "--id", str(admin.id)]).exit_code == 0
    page = client.get(f"/staff/users/{admin.id}", headers={"Accept-Language": "ru"})
    assert page.status_code == 200
    assert "одноразовый (выведен на экран), нужно сменить" in page.text
