"""Sending what the outbox holds: a message is claimed with a lease (so two
senders never send it twice), composed by its kind's registered composer,
handed to the transport, and marked sent, retried later with a doubling
back-off, or failed with the reason -- each outcome audited."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import cast

from flask import current_app
from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import DBAPIError

from ..actor import Actor
from ..audit import record
from ..telemetry import MAIL_FAILED, MAIL_SENT
from ..timeutil import utcnow
from . import registry
from .giveway import GiveWay
from .models import OutboxAttachment, OutboxMessage
from .outbox import LEASE, MAX_ERROR
from .transport import (
    FileTransport,
    PermanentFailure,
    SmtpTransport,
    TemporaryFailure,
    build,
    mail_dir,
)

log = logging.getLogger(__name__)
_messages = cast(Table, OutboxMessage.__table__)
_attachments = cast(Table, OutboxAttachment.__table__)


def backoff(attempts: int, config) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, at most an hour (by default)."""
    base = int(config["AWARD_MAIL_RETRY_SECONDS"])
    seconds = min(base * 2 ** max(attempts - 1, 0), int(config["AWARD_MAIL_RETRY_MAX_SECONDS"]))
    return timedelta(seconds=seconds)


def _claimable(now):
    m = OutboxMessage
    return or_(
        # queued and due (a fresh message is due at once, whatever the clocks say)
        and_(m.status == "queued", or_(m.attempts == 0, m.next_attempt_at <= now)),
        # a sender's lease ran out: it died mid-send
        and_(m.status == "sending", m.next_attempt_at <= now),
    )


def _claim_statement(ids, now):
    m = OutboxMessage
    return (
        update(m)
        .where(m.id.in_(ids), _claimable(now))
        .values(status="sending", attempts=m.attempts + 1, next_attempt_at=now + LEASE, updated_at=now)
        .returning(*_messages.c)
        .execution_options(synchronize_session=False)
    )


def claim(session, message_id: int, now: datetime) -> int | None:
    """Take one message for sending, atomically; its attempt number, or None
    when it is not ours to send (sent, failed, not due, or taken by another sender)."""
    claimed = claim_many(session, [message_id], now)
    return claimed[0].attempts if claimed else None


def claim_many(session, ids, now: datetime) -> list:
    """Take these messages for sending with one conditional UPDATE … RETURNING
    (committed): the rows claimed, as they are now (attempts counted), in the
    order of ``ids``; those not ours to send are left out."""
    rows = {row.id: row for row in session.execute(_claim_statement(list(ids), now)).all()}
    session.commit()
    return [rows[i] for i in dict.fromkeys(ids) if i in rows]


def _finish(session, message_id: int, attempts: int, now: datetime, **values) -> bool:
    """Write the outcome, if the message is still ours (our claim, our attempt)."""
    m = OutboxMessage
    done = (
        session.execute(
            update(m)
            .where(m.id == message_id, m.status == "sending", m.attempts == attempts)
            .values(updated_at=now, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    return done


# Core, not the ORM entity: a list of parameter sets would make the ORM's
# bulk UPDATE by primary key of it, with no room for the conditions.
_c = _messages.c
_ours = and_(_c.id == bindparam("message_id"), _c.status == "sending", _c.attempts == bindparam("attempt"))
# Built once: a batch's outcomes are written with one executemany each.
_SENT = (
    update(_messages)
    .where(_ours)
    .values(
        status="sent",
        sent_at=bindparam("now"),
        updated_at=bindparam("now"),
        last_error=None,
        subject=bindparam("subject"),
        body_text=bindparam("body_text"),
        body_html=bindparam("body_html"),
    )
)
# Claimed but not tried (the server went down before their turn): back in the
# queue as they were, due at once.
_RELEASE = (
    update(_messages).where(_ours).values(status="queued", attempts=_c.attempts - 1, next_attempt_at=bindparam("now"))
)


class Sender:
    """Sends claimed messages through one transport (one SMTP connection for a
    batch of them).

    A batch (at most ``BATCH`` ids) costs a handful of round trips, not a
    handful a message: one UPDATE claims them all; the composers read in one
    transaction; the messages are built and handed to the transport with no
    transaction open; the sent ones are marked, with the text that was sent,
    in one executemany.  A sender that dies mid-batch leaves its messages
    claimed until the lease runs out; then another sends them again, under
    the same Message-ID."""

    BATCH = 25

    def __init__(self, app):
        self.app = app
        config = app.config
        self.config = config
        self.max_attempts = max(1, int(config["AWARD_MAIL_MAX_ATTEMPTS"]))
        if config.get("AWARD_SMTP_HOST"):
            self.transport = SmtpTransport(config)
        else:
            self.transport = FileTransport(mail_dir(app))
        self.broken = False

    def close(self) -> None:
        self.transport.close()

    def send(self, session, message_id: int, now: datetime | None = None) -> str | None:
        """Claim and send one message; its new status, or None when it was not claimed."""
        return self.send_batch(session, [message_id], now).get(message_id)

    def send_batch(self, session, ids, now: datetime | None = None) -> dict[int, str]:
        """Claim and send these messages; the new status of each one claimed
        ("skipped": its lease ran out before its outcome was written)."""
        now = now or utcnow()
        claimed = claim_many(session, ids, now)
        if not claimed:
            return {}
        outcomes: dict[int, str] = {}
        ready = []  # (message with its text, attachments)
        # Plain rows (Core), not ORM objects: nothing of the caller's session is touched.
        stored = self._stored_attachments(session, [m.id for m in claimed if m.params is None])
        for message in claimed:
            if message.params is None:
                ready.append((message, stored.get(message.id, [])))
                continue
            composed = self._compose(session, message, now)
            if isinstance(composed, str):
                session.rollback()
                outcomes[message.id] = self._failed(session, message, message.attempts, now, composed)
            elif isinstance(composed, Exception):
                session.rollback()
                outcomes[message.id] = self._temporary(session, message, message.attempts, now, _describe(composed))
            else:
                ready.append(composed)
        session.rollback()  # end the read transaction: nothing is held while we talk to the server
        sent, untried = [], []
        for message, attachments in ready:
            if self.broken:
                untried.append(message)
                continue
            outcome = self._transmit(session, message, attachments, now)
            if outcome is None:
                sent.append(message)
            else:
                outcomes[message.id] = outcome
        self._mark(session, sent, untried, now, outcomes)
        return outcomes

    @staticmethod
    def _stored_attachments(session, ids: list[int]) -> dict[int, list]:
        if not ids:
            return {}
        found: dict[int, list] = {}
        rows = session.execute(
            select(_attachments).where(_attachments.c.message_id.in_(ids)).order_by(_attachments.c.id)
        ).all()
        for row in rows:
            found.setdefault(row.message_id, []).append(row)
        return found

    def _compose(self, session, message, now: datetime):
        """Render the message from the rows as they are now: (the message with
        its text, the attachments), or why it cannot be composed (a str: a bug,
        or data the templates cannot take; retrying will not help), or the
        database error to retry after.  The attachments are rendered at each
        attempt and not kept; the text is kept in the row with the outcome
        (what was last sent, for organisers)."""
        try:
            composed = registry.compose(session, message, now)
        except DBAPIError as exc:  # the database, not the message: try again later
            return exc
        except Exception as exc:
            log.exception("outbox message %s could not be composed", message.id, extra=_about(message))
            return f"the message could not be composed: {type(exc).__name__}: {exc}"
        text = {"subject": composed.subject, "body_text": composed.text, "body_html": composed.html}
        return SimpleNamespace(**{**message._asdict(), **text}), composed.attachments

    def _transmit(self, session, message, attachments, now: datetime) -> str | None:
        """Hand one message to the transport: None when it was taken, else the
        outcome written (queued for a retry, or failed)."""
        try:
            msg = build(message, attachments, self.config, now)
            if isinstance(self.transport, FileTransport):
                self.transport.send(
                    msg, message.to_address, name=f"{now:%Y%m%d-%H%M%S}-{message.id:07d}-{message.kind}.eml"
                )
            else:
                self.transport.send(msg, message.to_address)
        except PermanentFailure as exc:
            return self._failed(session, message, message.attempts, now, str(exc), text=True)
        except TemporaryFailure as exc:
            self.broken = self.broken or exc.broken
            return self._temporary(session, message, message.attempts, now, str(exc), text=True)
        except Exception as exc:  # a bug or bad data: retried like a temporary failure, then failed
            log.exception("outbox message %s: unexpected error while sending", message.id, extra=_about(message))
            return self._temporary(session, message, message.attempts, now, _describe(exc), text=True)
        return None

    def _mark(self, session, sent: list, untried: list, now: datetime, outcomes: dict[int, str]) -> None:
        """The batch's sent messages marked sent (with their text) and the untried
        released, in one transaction.  (A message whose lease ran out meanwhile
        is not marked: the sender that took it over writes its outcome.)"""
        if sent:
            rows = [
                {
                    "message_id": m.id,
                    "attempt": m.attempts,
                    "now": now,
                    "subject": m.subject,
                    "body_text": m.body_text,
                    "body_html": m.body_html,
                }
                for m in sent
            ]
            marked = session.connection().execute(_SENT, rows).rowcount
            if 0 <= marked < len(sent):
                log.warning("%d outbox messages were sent after their lease ran out", len(sent) - marked)
            for m in sent:
                outcomes[m.id] = "sent"
                MAIL_SENT.labels(m.kind).inc()
                log.info("outbox message %s sent", m.id, extra=_about(m))
        if untried:
            session.connection().execute(
                _RELEASE, [{"message_id": m.id, "attempt": m.attempts, "now": now} for m in untried]
            )
        session.commit()

    def _temporary(self, session, message, attempts: int, now: datetime, error: str, text: bool = False) -> str:
        if attempts >= self.max_attempts:
            return self._failed(session, message, attempts, now, f"{error} (gave up after {attempts} attempts)", text)
        _finish(
            session,
            message.id,
            attempts,
            now,
            status="queued",
            last_error=error[:MAX_ERROR],
            next_attempt_at=now + backoff(attempts, self.config),
            **(_text(message) if text else {}),
        )
        session.commit()
        MAIL_FAILED.labels(message.kind, "retry").inc()
        log.info(
            "outbox message %s: attempt %s failed, retrying: %s", message.id, attempts, error, extra=_about(message)
        )
        return "queued"

    def _failed(self, session, message, attempts: int, now: datetime, error: str, text: bool = False) -> str:
        if _finish(
            session,
            message.id,
            attempts,
            now,
            status="failed",
            last_error=error[:MAX_ERROR],
            **(_text(message) if text else {}),
        ):
            record(
                session,
                Actor.system("mail"),
                "mail.failed",
                "outbox_message",
                message.id,
                before={"status": "sending"},
                after={"status": "failed", "attempts": attempts},
                reason=error[:500],
            )
        session.commit()
        MAIL_FAILED.labels(message.kind, "failed").inc()
        log.warning("outbox message %s failed: %s", message.id, error, extra=_about(message))
        return "failed"


def _about(message) -> dict:
    """Log fields of a message: the request that decided it (issue 13), its id and kind."""
    return {"request_id": getattr(message, "request_id", None), "outbox_id": message.id, "kind": message.kind}


def _text(message) -> dict:
    return {"subject": message.subject, "body_text": message.body_text, "body_html": message.body_html}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def deliver(session, ids, now: datetime | None = None) -> dict[str, int]:
    """Send these messages (just committed) now, a batch at a time; counts by
    outcome ("skipped": not ours to send, or taken over)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # LocalProxy
    sender = Sender(app)
    give_way = GiveWay.for_thread(app.config)
    counts: dict[str, int] = {}
    ids = list(dict.fromkeys(ids))
    try:
        for start in range(0, len(ids), Sender.BATCH):
            if sender.broken:
                break  # the server is down: the rest stay queued (attempt 0, due) for the sweep
            if give_way is not None:
                give_way.wait()
            batch = ids[start : start + Sender.BATCH]
            outcomes = sender.send_batch(session, batch, now)
            for message_id in batch:
                outcome = outcomes.get(message_id) or "skipped"
                counts[outcome] = counts.get(outcome, 0) + 1
    finally:
        sender.close()
    return counts


def due_ids(session, now: datetime, limit: int) -> list[int]:
    m = OutboxMessage
    return list(
        session.scalars(
            select(m.id)
            .where(m.status.in_(("queued", "sending")), m.next_attempt_at <= now)
            .order_by(m.next_attempt_at, m.id)
            .limit(limit)
        )
    )


def send_due(session, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The sweep: send every message that is due (new, to be retried, or
    abandoned by a sender that died), oldest first; stops early when the SMTP
    server cannot be reached."""
    now = now or utcnow()
    ids = due_ids(session, now, limit)
    session.rollback()
    counts = deliver(session, ids, now)
    counts["due"] = len(ids)
    return counts


def waiting_count(session) -> int:
    """Messages not yet sent nor failed (queued or being sent)."""
    return session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(("queued", "sending")))
    )
