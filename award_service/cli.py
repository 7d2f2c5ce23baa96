"""Command line: ``flask --app award_service users …``, ``… demo …``, ``… mail …`` and ``… backup …``."""

from __future__ import annotations

import os
import secrets
from contextlib import nullcontext

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .accounts.models import User, UserRole
from .accounts.service import create_api_token, update_user
from .accounts.service import create_user as create
from .actor import Actor
from .ceremonies.models import Ceremony
from .demo import DEMO_PASSWORD, load
from .errors import ValidationFailed
from .extensions import db
from .mail.cli import mail_cli
from .mail.outbox import suppressed
from .ops.backup.cli import backup_cli
from .ops.production import production_cli

users_cli = AppGroup("users", help="Staff accounts.")
demo_cli = AppGroup("demo", help="Demo data.")


def _fail(exc: ValidationFailed):
    details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
    raise click.ClickException(f"{exc.message} {details}")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--district", default=None, help="District code that limits the user's scope.")
@click.option("--password", default=None, help="Generated and printed when not given.")
def create_user(email, name, roles, district, password):
    """Create a staff user."""
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(12)
    try:
        user = create(
            db.session,
            Actor.system("cli"),
            email=email,
            name=name,
            roles=list(roles),
            district=district,
            password=password,
            one_time_password=generated,
        )
    except ValidationFailed as exc:
        _fail(exc)
    click.echo(f"created {user.email} ({', '.join(sorted(user.roles))})")
    if generated:
        click.echo(f"password: {password}")


@users_cli.command("token")
@click.option("--email", required=True)
def create_token(email):
    """Print a new API token for a user (its last line; shown only once)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    token = create_api_token(db.session, Actor.system("cli"), user)
    click.echo(f"API token for {user.email} (store it now; it is not shown again):")
    click.echo(token)


def _framed(lines: list[str]) -> str:
    """Lines in an ASCII frame, so that they stand out at the end of a long install log."""
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


@users_cli.command("ensure-admin")
@click.option(
    "--url",
    default=None,
    help="Where the service will answer: print a framed welcome (with the first login) to end the set-up output.",
)
def ensure_admin(url):
    """Create the first admin when there is none (AWARD_ADMIN_EMAIL / AWARD_ADMIN_PASSWORD)."""
    admin_count = db.session.scalar(select(func.count()).select_from(UserRole).where(UserRole.role == "admin"))
    email = os.environ.get("AWARD_ADMIN_EMAIL") or "admin@example.com"
    if admin_count:
        if url:
            click.echo(
                _framed(
                    [
                        f"Award Service: {url}",
                        "The first administrator already exists; its password was shown when it was made.",
                        "Lost it? flask --app award_service users password --email <e-mail> prints a new one.",
                        f"Demo accounts: see README, 'Try it' (password {DEMO_PASSWORD}).",
                    ]
                )
            )
        return
    password = os.environ.get("AWARD_ADMIN_PASSWORD")
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    if db.session.scalar(select(User).where(func.lower(User.email) == email.lower())):
        raise click.ClickException(
            f"{email} exists but is not an admin; give it the admin role or set AWARD_ADMIN_EMAIL"
        )
    try:
        create(
            db.session,
            Actor.system("cli"),
            email=email,
            name="Administrator",
            roles=["admin"],
            password=password,
            one_time_password=generated,
        )
    except ValidationFailed as exc:
        _fail(exc)
    lines = [f"Award Service: {url}"] if url else []
    lines.append(f"First administrator: {email}")
    if generated:
        lines.append(f"Password (shown once, change it after logging in): {password}")
    else:
        lines.append("Password: the one in AWARD_ADMIN_PASSWORD")
    if url:
        lines.append(f"Demo accounts: see README, 'Try it' (password {DEMO_PASSWORD}).")
    click.echo(_framed(lines))


@users_cli.command("password")
@click.option("--email", default=None, help="The account's e-mail.")
@click.option("--id", "user_id", type=int, default=None, help="Or its id (as `production check` names it).")
@click.option(
    "--prompt",
    "prompt",
    is_flag=True,
    help="Ask for the new password (typed twice, not shown) instead of generating and printing a one-time one.",
)
def new_password(email, user_id, prompt):
    """Give a staff account a new password: generated and printed once (to be changed
    after logging in; a lost first-admin password), or typed at a prompt."""
    if (email is None) == (user_id is None):
        raise click.UsageError("give --email or --id")
    if user_id is not None:
        user = db.session.get(User, user_id)
    else:
        user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(
            f"no user with e-mail {email}" if email is not None else f"no user with id {user_id}"
        )
    if prompt:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    else:
        password = secrets.token_urlsafe(12)
    try:
        update_user(db.session, Actor.system("cli"), user, {"password": password}, one_time_password=not prompt)
    except ValidationFailed as exc:
        _fail(exc)
    if prompt:
        click.echo(f"The password of {user.email} is changed.")
    else:
        click.echo(_framed([f"New password for {user.email} (shown once): {password}"]))


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Only when there are no ceremonies yet.")
@click.option(
    "--mail/--no-mail",
    "send_mail",
    default=False,
    show_default=True,
    help="Queue the e-mails the demo's changes would send (its people are fictitious, at example.com).",
)
def load_demo(if_empty, send_mail):
    """Load the Ulytau demo: ceremonies, organisers and registrations."""
    if if_empty and db.session.scalar(select(func.count()).select_from(Ceremony)):
        click.echo("demo data: the database is not empty; nothing loaded")
        return
    with nullcontext() if send_mail else suppressed(db.session):
        summary = load(db.session, tz=current_app.config["AWARD_TIMEZONE"])
    click.echo("demo data loaded: " + ", ".join(f"{v} {k}" for k, v in summary.items()))


def register_cli(app) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(production_cli)
    app.cli.add_command(backup_cli)
