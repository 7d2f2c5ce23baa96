"""``flask --app award_service mail …``: the sweep, reminders and clean-up,
for cron when no Celery beat runs (and for looking at the outbox)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from . import flush, registry
from .outbox import counts_by_status, purge_attachments
from .sending import send_due

mail_cli = AppGroup("mail", help="Outgoing e-mail (the outbox).")


@mail_cli.command("send")
@click.option("--limit", default=500, show_default=True, help="At most this many messages in one run.")
def send(limit):
    """Send every due message now: new ones, retries whose back-off has passed,
    and ones a stopped sender left half-sent."""
    counts = send_due(db.session, limit=limit)
    click.echo(
        "due: {due}, sent: {sent}, retry later: {queued}, failed: {failed}".format(
            due=counts.get("due", 0),
            sent=counts.get("sent", 0),
            queued=counts.get("queued", 0),
            failed=counts.get("failed", 0),
        )
    )


@mail_cli.command("reminders")
def reminders():
    """Queue the reminders that are due -- the day before a ceremony, from
    AWARD_MAIL_REMINDER_HOUR local time; each registration once -- and send
    them.  Run it every hour (cron) when no Celery beat runs."""
    count = registry.run_job("reminders", db.session)
    db.session.commit()
    flush()  # sent by this process, or handed to the broker: wait before it exits
    click.echo(f"reminders queued: {count}")


@mail_cli.command("status")
def status():
    """How many messages are in each state."""
    for name, count in counts_by_status(db.session).items():
        click.echo(f"{name}: {count}")


@mail_cli.command("purge")
@click.option("--keep-days", type=int, default=None, help="Default: AWARD_MAIL_KEEP_DAYS.")
def purge(keep_days):
    """Drop the attachments (ticket PDFs) of messages sent long ago; the messages stay listed."""
    click.echo(f"attachments dropped: {purge_attachments(db.session, keep_days=keep_days)}")
