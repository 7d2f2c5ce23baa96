"""The outbox: enqueue inside the caller's transaction; after its commit, send.

Enqueue is one INSERT on the caller's connection (for a ceremony's change, one
INSERT … SELECT for everyone registered) and nothing else: no rendering, no
network, so a request that rolls back leaves no trace and sends nothing, and a
registration with an e-mail costs the request one statement more than one
without.  The ids enqueued are kept on the session (``session.info``); an
``after_commit`` listener on every SQLAlchemy session hands them to the app's
dispatcher (a thread in this process, or the Celery task when a broker is
configured, see :mod:`award_service.mail.dispatch`).

Sending claims one row with one conditional UPDATE … RETURNING (SQLite and
PostgreSQL): of two senders racing for a row, one gets it.  The message is
then composed (the kind's registered composer renders the text and attachments from the rows
it is about and the ``params`` decided) and its text kept in its row, in a
short transaction of its own.  The SMTP dialogue happens outside any
database transaction; its outcome is written in a second short one.  A
temporary failure puts the message back in the queue with an exponential
back-off (AWARD_MAIL_RETRY_SECONDS doubled each time, at most
AWARD_MAIL_RETRY_MAX_SECONDS); the last allowed attempt
(AWARD_MAIL_MAX_ATTEMPTS), a permanent refusal (5xx for the recipient or the
message) or a message that cannot be composed marks it failed, with the reason
in ``last_error``, for an organiser to see and retry.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from ..actor import Actor
from ..audit import record
from ..errors import Conflict, Forbidden, NotFound
from ..telemetry import request_id
from ..timeutil import UTCDateTime, utcnow
from .models import OutboxAttachment, OutboxMessage, OutboxStatus, dump_params

log = logging.getLogger(__name__)

PENDING = "award_mail.pending"
SUPPRESSED = "award_mail.suppressed"
# How long a sender holds a claimed message before a sweep may take it over.
LEASE = timedelta(minutes=5)
MAX_ERROR = 2000

STATUS_LABELS = OutboxStatus.labels()
WAITING = (OutboxStatus.QUEUED.value, OutboxStatus.SENDING.value)  # not yet sent nor failed


# ------------------------------------------------------------------ enqueue

_messages = cast(Table, OutboxMessage.__table__)
_attachments = cast(Table, OutboxAttachment.__table__)
_INSERT_ATTACHMENT = insert(_attachments)


def _insert_message(dialect: str, dedupe: bool):
    if dedupe and dialect in ("postgresql", "sqlite"):
        # Two reminder runs at once: the second INSERT does nothing, no error.
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(_messages).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(_messages.c.id)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(_messages).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(_messages.c.id)
    return insert(_messages).returning(_messages.c.id)


def enqueue(
    session,
    *,
    kind: str,
    to_address: str,
    language: str,
    subject: str | None = None,
    body_text: str | None = None,
    body_html: str | None = None,
    attachments=(),
    params: dict | None = None,
    dedupe_key: str | None = None,
    object_type: str | None = None,
    object_id=None,
    district_id: int | None = None,
    now: datetime | None = None,
) -> int | None:
    """Add one message to the outbox inside the caller's transaction; it is sent
    after that transaction commits.  Without ``subject`` and ``body_text`` the
    sender composes it, with ``params`` (the usual way: a feature's ``messages`` module);
    with them it is sent as given, with ``attachments``.  Returns its id, or
    None when ``dedupe_key`` was taken already (the message was decided
    before) or mail is suppressed on this session."""
    if session.info.get(SUPPRESSED):
        return None
    if (subject is None) != (body_text is None):
        raise ValueError("a message is given both a subject and a text, or neither")
    composed = subject is not None
    if composed and params is not None:
        raise ValueError("params are for messages the sender composes, not for one given with its text")
    if attachments and not composed:
        raise ValueError("attachments are given with a composed message only")
    now = now or utcnow()
    connection = session.connection()
    values = {
        "kind": kind,
        "to_address": to_address,
        "language": language,
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "params": None if composed else dump_params(params),
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": None,
        "dedupe_key": dedupe_key,
        "object_type": object_type,
        "object_id": str(object_id) if object_id is not None else None,
        "district_id": district_id,
        "request_id": request_id(),
        "created_at": now,
        "updated_at": now,
        "sent_at": None,
    }
    message_id = connection.execute(_insert_message(connection.dialect.name, dedupe_key is not None), values).scalar()
    if message_id is None:
        return None
    if attachments:
        _add_attachments(connection, message_id, attachments)
    send_after_commit(session, [message_id])
    return message_id


def insert_from(recipients):
    """The INSERT … SELECT that adds one message for every row of ``recipients``
    -- a SELECT of exactly (to_address, language, object_id, district_id), its
    own values as bind parameters -- composed by the sender.  Build it once
    (module level) and run it with :func:`enqueue_from`: a statement built
    anew for each request costs more CPU than its round trip."""
    now = bindparam("now", type_=UTCDateTime())
    source = recipients.add_columns(
        bindparam("kind", type_=String),
        bindparam("params", type_=Text),
        literal("queued", String),
        literal(0, Integer),
        now,
        bindparam("object_type", type_=String),
        now,
        now,
        bindparam("request_id", type_=String),
    )
    columns = [
        "to_address",
        "language",
        "object_id",
        "district_id",
        "kind",
        "params",
        "status",
        "attempts",
        "next_attempt_at",
        "object_type",
        "created_at",
        "updated_at",
        "request_id",
    ]
    return insert(_messages).from_select(columns, source).returning(_messages.c.id)


def id_of(row_or_id: Any) -> int:
    """The id of a row, or the id itself: the deciding functions take either."""
    return row_or_id if isinstance(row_or_id, int) else int(row_or_id.id)


def first_id(ids: list[int]) -> int | None:
    """The one message a decision about one recipient added (None: nobody to write to)."""
    return ids[0] if ids else None


def enqueue_from(
    session,
    statement,
    *,
    kind: str,
    object_type: str,
    params: dict | None = None,
    now: datetime | None = None,
    **values,
) -> list[int]:
    """Run an :func:`insert_from` statement with its recipients' ``values``;
    the ids added (none when mail is suppressed on this session)."""
    if is_suppressed(session):
        return []
    ids = list(
        session.connection().execute(statement, dict(values, **insert_values(kind, object_type, params, now))).scalars()
    )
    if ids:
        send_after_commit(session, sorted(ids))
    return ids


def insert_values(kind: str, object_type: str, params: dict | None = None, now: datetime | None = None) -> dict:
    """The bind values of an :func:`insert_from` statement other than its
    recipients' (for a statement that embeds it, e.g. as a CTE)."""
    return {
        "kind": kind,
        "params": dump_params(params),
        "object_type": object_type,
        "now": now or utcnow(),
        "request_id": request_id(),
    }


def is_suppressed(session) -> bool:
    """No mail from this session (see :func:`suppressed`)."""
    return bool(session.info.get(SUPPRESSED))


def _add_attachments(connection, message_id: int, attachments) -> None:
    connection.execute(
        _INSERT_ATTACHMENT,
        [
            {
                "message_id": message_id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": len(a.data),
                "data": a.data,
            }
            for a in attachments
        ],
    )


@contextmanager
def suppressed(session):
    """No mail from what this session does inside the block (the demo data:
    fictitious people at example addresses)."""
    previous = session.info.get(SUPPRESSED)
    session.info[SUPPRESSED] = True
    try:
        yield
    finally:
        if previous:
            session.info[SUPPRESSED] = previous
        else:
            session.info.pop(SUPPRESSED, None)


def send_after_commit(session, message_ids) -> None:
    """Hand these messages (added by this session's transaction) to the sender
    once it commits; :func:`enqueue` and :func:`enqueue_from` do it themselves."""
    pending = session.info.get(PENDING)
    if pending is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # LocalProxy
        pending = session.info[PENDING] = (app, [])
    pending[1].extend(message_ids)


# ------------------------------------------------------------------ sending


# ------------------------------------------------------------------ organisers


def retry(
    session, actor: Actor, message_id: int, *, district_id: int | None = None, now: datetime | None = None
) -> OutboxMessage:
    """An organiser sends a failed message again: back in the queue with a fresh
    set of attempts, sent right after the commit.  ``district_id``: the
    organiser's district scope (a message of another district is refused).

    The conditional UPDATE comes first (SQLite: a transaction that reads and
    then writes can fail when another one wrote meanwhile); a refusal is
    explained after the rollback."""
    now = now or utcnow()
    m = OutboxMessage
    conditions = [m.id == message_id, m.status == "failed"]
    if district_id is not None:
        conditions.append(m.district_id == district_id)
    changed = session.execute(
        update(m)
        .where(*conditions)
        .values(status="queued", attempts=0, next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        message = session.get(m, message_id) if 0 < message_id < 2**31 else None
        if message is None:
            raise NotFound(_l("No such message."))
        if district_id is not None and message.district_id != district_id:
            raise Forbidden()
        raise Conflict(_l("This message is not in the failed state any more."), code="invalid_transition")
    record(
        session,
        actor,
        "mail.retry",
        "outbox_message",
        message_id,
        before={"status": "failed"},
        after={"status": "queued", "attempts": 0},
    )
    send_after_commit(session, [message_id])
    session.commit()
    return session.get(m, message_id)


def purge_attachments(session, now: datetime | None = None, keep_days: int | None = None) -> int:
    """Drop the attachments of messages sent more than ``keep_days`` ago (the
    message rows stay, as the record of what was sent).  Returns how many."""
    now = now or utcnow()
    if keep_days is None:
        keep_days = int(current_app.config["AWARD_MAIL_KEEP_DAYS"])
    old = select(OutboxMessage.id).where(
        OutboxMessage.status == "sent", OutboxMessage.sent_at < now - timedelta(days=keep_days)
    )
    result = session.execute(
        delete(OutboxAttachment)
        .where(OutboxAttachment.message_id.in_(old))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount or 0


@dataclass(frozen=True)
class Backlog:
    """What waits to be sent (queued or being sent) and since when."""

    pending: int
    oldest: datetime | None  # when the oldest waiting message was decided

    def oldest_seconds(self, now: datetime | None = None) -> int:
        if self.oldest is None:
            return 0
        return max(0, int(((now or utcnow()) - self.oldest).total_seconds()))


def backlog(session, district_id: int | None = None) -> Backlog:
    """The messages waiting to be sent and the oldest one's time (one indexed
    query: the status index), for the organisers' page."""
    m = OutboxMessage
    stmt = select(func.count(), func.min(m.created_at)).where(m.status.in_(WAITING))
    if district_id is not None:
        stmt = stmt.where(m.district_id == district_id)
    pending, oldest = session.execute(stmt).one()
    return Backlog(pending=pending, oldest=oldest)


def counts_by_status(session, district_id: int | None = None) -> dict[str, int]:
    stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if district_id is not None:
        stmt = stmt.where(OutboxMessage.district_id == district_id)
    found = dict(session.execute(stmt).all())
    return {status: found.get(status, 0) for status in STATUS_LABELS}
