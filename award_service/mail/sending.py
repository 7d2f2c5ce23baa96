"""Sending what the outbox holds: a message is claimed with a lease (so two
senders never send it twice), composed by its kind's registered composer,
handed to the transport, and marked sent, retried later with a doubling
back-off, or failed with the reason -- each outcome audited."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import DBAPIError

from ..actor import Actor
from ..audit import record
from ..timeutil import utcnow
from . import registry
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
_messages = OutboxMessage.__table__
_attachments = OutboxAttachment.__table__


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


def claim(session, message_id: int, now: datetime) -> int | None:
    """Take one message for sending, atomically; its attempt number, or None
    when it is not ours to send (sent, failed, not due, or taken by another sender)."""
    m = OutboxMessage
    attempts = session.execute(
        update(m)
        .where(m.id == message_id, _claimable(now))
        .values(status="sending", attempts=m.attempts + 1, next_attempt_at=now + LEASE, updated_at=now)
        .returning(m.attempts)
        .execution_options(synchronize_session=False)
    ).scalar()
    session.commit()
    return attempts


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


class Sender:
    """Sends claimed messages through one transport (one SMTP connection for a batch)."""

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
        now = now or utcnow()
        attempts = claim(session, message_id, now)
        if attempts is None:
            return None
        # Plain rows (Core), not ORM objects: nothing of the caller's session is touched.
        message = session.execute(select(_messages).where(_messages.c.id == message_id)).one()
        if message.params is not None:
            composed = self._compose(session, message, attempts, now)
            if isinstance(composed, str):
                return composed
            message, attachments = composed
        else:
            attachments = session.execute(
                select(_attachments).where(_attachments.c.message_id == message_id).order_by(_attachments.c.id)
            ).all()
        session.rollback()  # end the read transaction: nothing is held while we talk to the server
        try:
            msg = build(message, attachments, self.config, now)
            if isinstance(self.transport, FileTransport):
                self.transport.send(
                    msg, message.to_address, name=f"{now:%Y%m%d-%H%M%S}-{message.id:07d}-{message.kind}.eml"
                )
            else:
                self.transport.send(msg, message.to_address)
        except PermanentFailure as exc:
            return self._failed(session, message, attempts, now, str(exc))
        except TemporaryFailure as exc:
            self.broken = self.broken or exc.broken
            return self._temporary(session, message, attempts, now, str(exc))
        except Exception as exc:  # a bug or bad data: retried like a temporary failure, then failed
            log.exception("outbox message %s: unexpected error while sending", message_id)
            return self._temporary(session, message, attempts, now, f"{type(exc).__name__}: {exc}")
        finished = _finish(session, message_id, attempts, now, status="sent", sent_at=now, last_error=None)
        session.commit()
        if not finished:
            log.warning("outbox message %s was sent after its lease ran out", message_id)
        return "sent"

    def _compose(self, session, message, attempts: int, now: datetime):
        """Render the message from the rows as they are now; keep its text in
        the row (what was last sent, for organisers) in a short transaction.
        The attachments are rendered at each attempt and not kept: a ticket is
        about 130 KB.  Returns (the message with its text, the attachments),
        or the outcome to report: a failure, or "skipped" when the lease ran
        out meanwhile."""
        try:
            composed = registry.compose(session, message, now)
        except DBAPIError as exc:  # the database, not the message: try again later
            session.rollback()
            return self._temporary(session, message, attempts, now, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug, or data the templates cannot take: retrying will not help
            log.exception("outbox message %s could not be composed", message.id)
            session.rollback()
            return self._failed(
                session, message, attempts, now, f"the message could not be composed: {type(exc).__name__}: {exc}"
            )
        text = {"subject": composed.subject, "body_text": composed.text, "body_html": composed.html}
        if not _finish(session, message.id, attempts, now, **text):
            session.rollback()  # the lease ran out and another sender took the message over
            return "skipped"
        session.commit()
        return SimpleNamespace(**{**message._asdict(), **text}), composed.attachments

    def _temporary(self, session, message, attempts: int, now: datetime, error: str) -> str:
        if attempts >= self.max_attempts:
            return self._failed(session, message, attempts, now, f"{error} (gave up after {attempts} attempts)")
        _finish(
            session,
            message.id,
            attempts,
            now,
            status="queued",
            last_error=error[:MAX_ERROR],
            next_attempt_at=now + backoff(attempts, self.config),
        )
        session.commit()
        log.info("outbox message %s: attempt %s failed, retrying: %s", message.id, attempts, error)
        return "queued"

    def _failed(self, session, message, attempts: int, now: datetime, error: str) -> str:
        if _finish(session, message.id, attempts, now, status="failed", last_error=error[:MAX_ERROR]):
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
        log.warning("outbox message %s failed: %s", message.id, error)
        return "failed"


def deliver(session, ids, now: datetime | None = None) -> dict[str, int]:
    """Send these messages (just committed) now; counts by outcome."""
    sender = Sender(current_app._get_current_object())  # type: ignore[attr-defined]  # LocalProxy
    counts: dict[str, int] = {}
    try:
        for message_id in ids:
            if sender.broken:
                break  # the server is down: the rest stay queued (attempt 0, due) for the sweep
            outcome = sender.send(session, message_id, now)
            counts[outcome or "skipped"] = counts.get(outcome or "skipped", 0) + 1
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
