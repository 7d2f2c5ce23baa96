"""What ``AWARD_ENV=production`` refuses to start with, each refusal one line
saying what is wrong and what to do.

Two kinds, checked in two places:

- **Configuration** (:func:`refuse_unsafe_config`, called by ``create_app``, so
  gunicorn, the Celery worker and beat and every ``flask`` command refuse):
  a missing ``SECRET_KEY`` (checked first, in :mod:`award_service.config`), an
  SQLite database, and an ``AWARD_ADMIN_PASSWORD`` that is the demo password, a
  well-known one or shorter than the accounts' minimum.  These need no database,
  so a database that is briefly down never stops the service from starting: it
  starts and answers 503 until the database is back.
- **The database** (:func:`database_findings`, run by ``flask --app award_service
  production check``, which systemd's ``ExecStartPre`` and ``make serve`` run
  before gunicorn): the schema not at the migrations' head, and an active
  administrator account whose password is the demo password or a well-known one,
  or the one-time password that ``users ensure-admin``/``users password`` printed,
  still unchanged 24 hours after it was printed (within those hours the check
  warns: the first start after an install must let the administrator log in to
  change it).  When the database does not answer, the command says so and
  succeeds: the service starts and serves 503s, and the next start checks again.

"The one-time password" is read from the audit trail: the last event of an
account that set its password says ``"(one-time)"`` for a password the CLI
generated and printed, ``"(changed)"`` for one a person chose.

Accounts are named by id in these lines, never by e-mail: systemd writes them to
the journal, and logs carry no personal data.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from ..accounts.models import User, UserRole
from ..accounts.service import CHANGED_PASSWORD, MIN_PASSWORD_LENGTH, ONE_TIME_PASSWORD, check_password
from ..audit.models import AuditEvent
from ..config import ConfigError, default_instance_path, load_config
from ..demo import DEMO_PASSWORD
from ..errors import database_unavailable
from ..extensions import DbSession, db
from ..timeutil import utcnow
from .health import migration_heads

# Passwords an administrator must not have.  Each costs one argon2 verification per
# administrator at every start (~0.1 s at the production cost), so the list holds the
# demo's and the commonest ones long enough to pass the accounts' 10-character minimum.
WELL_KNOWN_PASSWORDS = (DEMO_PASSWORD, "password123", "admin12345", "changeme123", "1234567890", "qwertyuiop")
ONE_TIME_GRACE = timedelta(hours=24)
SET_PASSWORD = "flask --app award_service users password --id {id} --prompt"


def is_production(config: Mapping[str, Any]) -> bool:
    return config.get("AWARD_ENV") == "production"


def config_refusals(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> list[str]:
    """What production refuses in the configuration (whatever ``AWARD_ENV`` says)."""
    environ = os.environ if environ is None else environ
    refusals = []
    if make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "sqlite":
        refusals.append(
            "the database is SQLite, which production does not run on: "
            "set DATABASE_URL=postgresql://USER@HOST/DBNAME (README, Deployment)"
        )
    password = environ.get("AWARD_ADMIN_PASSWORD") or ""
    weakness = _weakness(password) if password else None
    if weakness:
        refusals.append(
            f"AWARD_ADMIN_PASSWORD is {weakness}: remove it from the environment "
            "(flask --app award_service users ensure-admin then prints a generated one) "
            "or set a long random one"
        )
    return refusals


def _weakness(password: str) -> str | None:
    if password == DEMO_PASSWORD:
        return "the demo password, published in the README"
    if password.lower() in WELL_KNOWN_PASSWORDS:
        return "a well-known password"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"shorter than {MIN_PASSWORD_LENGTH} characters"
    return None


def refuse_unsafe_config(config: Mapping[str, Any]) -> None:
    """In production, raise :class:`ConfigError` with one line per refusal."""
    if is_production(config):
        refusals = config_refusals(config)
        if refusals:
            raise ConfigError("\n".join(refusals))


def startup_refusals() -> list[str]:
    """The configuration refusals of this process's environment, as ``create_app``
    would raise them, without building the app: for a master process that forks
    the app's workers (deploy/gunicorn.conf.py), so that it refuses once, before
    any worker starts, instead of every worker failing on its own."""
    from flask import Flask

    app = Flask("award_service", instance_path=default_instance_path())
    try:
        load_config(app)
        refuse_unsafe_config(app.config)
    except ConfigError as exc:
        return exc.message.splitlines()
    return []


@dataclass
class Findings:
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def database_findings(session: DbSession, now: datetime | None = None) -> Findings:
    """What production refuses (and warns about) in the database."""
    now = now or utcnow()
    findings = Findings()
    head = migration_heads()
    try:
        current = frozenset(session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except Exception as exc:
        if database_unavailable(exc):
            raise
        session.rollback()
        current = frozenset()
    if current != head:
        if not current:
            findings.refusals.append(
                "the database has no tables yet: run flask --app award_service db upgrade, "
                "then flask --app award_service users ensure-admin"
            )
        else:
            findings.refusals.append(
                f"the database is at migration {', '.join(sorted(current))} but this release needs "
                f"{', '.join(sorted(head))}: run flask --app award_service db upgrade (README, upgrade)"
            )
        return findings  # the accounts below may not match this release's tables

    admins = session.scalars(
        select(User).join(UserRole).where(UserRole.role == "admin", User.active.is_(True)).order_by(User.id)
    ).all()
    if not admins:
        findings.warnings.append("there is no administrator account: run flask --app award_service users ensure-admin")
    for user in admins:
        well_known = next((p for p in WELL_KNOWN_PASSWORDS if check_password(user, p)), None)
        if well_known is not None:
            what = "the demo password" if well_known == DEMO_PASSWORD else "a well-known password"
            findings.refusals.append(
                f"the administrator account id {user.id} has {what}: set another with {SET_PASSWORD.format(id=user.id)}"
            )
            continue
        issued = one_time_password_issued(session, user.id)
        if issued is None:
            continue
        if now - issued >= ONE_TIME_GRACE:
            findings.refusals.append(
                f"the administrator account id {user.id} still has the one-time password printed "
                f"{issued:%Y-%m-%d %H:%M} UTC: log in and change it, or set one with {SET_PASSWORD.format(id=user.id)}"
            )
        else:
            hours = int((now - issued).total_seconds() // 3600)
            findings.warnings.append(
                f"the administrator account id {user.id} has the one-time password printed {hours} h ago: "
                f"change it after logging in; from {int(ONE_TIME_GRACE.total_seconds() // 3600)} h on "
                "production refuses to start with it"
            )
    return findings


def one_time_password_issued(session: DbSession, user_id: int) -> datetime | None:
    """When the account's current password was printed by the CLI as a one-time
    password, or None when a person chose it (or the audit does not say)."""
    events = session.execute(
        select(AuditEvent.after, AuditEvent.occurred_at)
        .where(
            AuditEvent.object_type == "user",
            AuditEvent.object_id == str(user_id),
            AuditEvent.action.in_(("user.create", "user.update")),
        )
        .order_by(AuditEvent.id.desc())
    )
    for after, occurred_at in events:
        password = (after or {}).get("password")
        if password == ONE_TIME_PASSWORD:
            return occurred_at
        if password == CHANGED_PASSWORD:
            return None
    return None


production_cli = AppGroup("production", help="The production profile.")


@production_cli.command("check")
def check() -> None:
    """Check what AWARD_ENV=production refuses (systemd ExecStartPre, make serve).

    Exits 1 with one line per refusal in production; elsewhere it prints what
    production would refuse and exits 0.  A database that does not answer is not
    a refusal: the service starts and answers 503 until it is back."""
    production = is_production(current_app.config)
    refusals = [] if production else config_refusals(current_app.config)  # production: create_app refused them
    try:
        findings = database_findings(db.session)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        db.session.rollback()
        click.echo(
            "production check: the database does not answer now; starting anyway "
            "(the service answers 503 until it does; its checks run at the next start)",
            err=True,
        )
        findings = Findings()
        if not refusals:
            return
    refusals += findings.refusals
    for line in findings.warnings:
        click.echo(f"warning: {line}", err=True)
    if not refusals:
        click.echo("production check: ok")
        return
    if not production:
        for line in refusals:
            click.echo(f"development; production would refuse: {line}", err=True)
        return
    for line in refusals:
        click.echo(f"refused: {line}", err=True)
    raise SystemExit(1)
