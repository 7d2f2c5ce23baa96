"""The organisers' outbox page: how many messages wait, which failed and why,
and a button to send a failed one again."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..http import actor, require
from . import outbox, registry
from .models import OutboxMessage
from .transport import mail_dir

bp = Blueprint("mail", __name__, url_prefix="/staff/mail")

LIST_LIMIT = 100
# A message normally leaves within seconds; one waiting longer than this says something is down.
SLOW_SECONDS = 600


class RetryForm(FlaskForm):
    message_id = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])


def _scoped(stmt):
    scope = current_user.district_scope
    return stmt if scope is None else stmt.where(OutboxMessage.district_id == scope)


def _delivery() -> str:
    config = current_app.config
    if config.get("AWARD_SMTP_HOST"):
        how = _("SMTP server %(server)s", server=f"{config['AWARD_SMTP_HOST']}:{config['AWARD_SMTP_PORT']}")
    else:
        how = _("no SMTP server: written as files to %(folder)s", folder=str(mail_dir(current_app)))
    by = _("a Celery worker") if config.get("AWARD_CELERY_BROKER_URL") else _("the web server itself")
    return _("Delivery: %(how)s; sent by %(by)s.", how=how, by=by)


@bp.get("/")
@require("mail.view")
def index():
    m = OutboxMessage
    failed = db.session.scalars(
        _scoped(select(m).where(m.status == "failed")).order_by(m.updated_at.desc(), m.id.desc()).limit(LIST_LIMIT)
    ).all()
    waiting = db.session.scalars(
        _scoped(select(m).where(m.status.in_(("queued", "sending"))))
        .order_by(m.next_attempt_at, m.id)
        .limit(LIST_LIMIT)
    ).all()
    waiting_now = outbox.backlog(db.session, current_user.district_scope)
    return render_template(
        "mail/index.html",
        backlog=waiting_now,
        backlog_age=format_timedelta(timedelta(seconds=waiting_now.oldest_seconds()), threshold=1),
        backlog_slow=waiting_now.oldest_seconds() > SLOW_SECONDS,
        counts=outbox.counts_by_status(db.session, current_user.district_scope),
        failed=failed,
        waiting=waiting,
        status_labels=outbox.STATUS_LABELS,
        kind_labels={name: kind.label for name, kind in registry.kinds().items()},
        form=RetryForm(),
        delivery=_delivery(),
        limit=LIST_LIMIT,
    )


@bp.post("/retry")
@require("mail.view")
def retry():
    form = RetryForm()
    if not form.validate_on_submit():
        flash(_("Choose a message to send again."), "error")
        return redirect(url_for(".index"))
    try:
        message = outbox.retry(db.session, actor(), form.message_id.data, district_id=current_user.district_scope)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except Conflict as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The message to %(to)s is queued again and is being sent.", to=message.to_address), "success")
    return redirect(url_for(".index"))
