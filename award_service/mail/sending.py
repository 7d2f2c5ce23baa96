"""Sending what the outbox holds: a message is claimed with a lease (so two
senders never send it twice), composed by its kind's registered composer,
handed to the transport, and marked sent, retried later with a doubling
back-off, or failed with the reason -- each outcome audited.

At least once, and twice only in one window: a message is marked sent as soon
as the SMTP server has accepted it (its own short transaction), so a sender
killed mid-batch, or a database that restarts under it, leaves at most the one
message it was handing over unmarked; after the lease another sender sends that
one again under the same Message-ID (derived from the row), which mail clients
use to drop the copy.  A mark the database refuses (it is away) is tried again
for a few seconds, then kept in this process (:class:`Unmarked`) and written
before its next delivery: the message is not sent again unless the process
dies before the database comes back."""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import cast

from flask import current_app
from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..actor import Actor
from ..audit import record
from ..errors import database_unavailable
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


def lease(config) -> timedelta:
    """How long a sender holds the messages it claimed (AWARD_MAIL_LEASE_SECONDS,
    five minutes by default) before a sweep may take them over."""
    seconds = config.get("AWARD_MAIL_LEASE_SECONDS")
    return timedelta(seconds=float(seconds)) if seconds else LEASE


def _claimable(now):
    m = OutboxMessage
    return or_(
        # queued and due (a fresh message is due at once, whatever the clocks say)
        and_(m.status == "queued", or_(m.attempts == 0, m.next_attempt_at <= now)),
        # a sender's lease ran out: it died mid-send
        and_(m.status == "sending", m.next_attempt_at <= now),
    )


def _claim_statement(ids, now, held: timedelta):
    m = OutboxMessage
    return (
        update(m)
        .where(m.id.in_(ids), _claimable(now))
        .values(status="sending", attempts=m.attempts + 1, next_attempt_at=now + held, updated_at=now)
        .returning(*_messages.c)
        .execution_options(synchronize_session=False)
    )


def claim(session, message_id: int, now: datetime, held: timedelta = LEASE) -> int | None:
    """Take one message for sending, atomically; its attempt number, or None
    when it is not ours to send (sent, failed, not due, or taken by another sender)."""
    claimed = claim_many(session, [message_id], now, held)
    return claimed[0].attempts if claimed else None


def claim_many(session, ids, now: datetime, held: timedelta = LEASE) -> list:
    """Take these messages for sending with one conditional UPDATE … RETURNING
    (committed), for ``held`` (the lease): the rows claimed, as they are now
    (attempts counted), in the order of ``ids``; those not ours to send are left out."""
    rows = {row.id: row for row in session.execute(_claim_statement(list(ids), now, held)).all()}
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
# What marking a message sent writes: the time and the text that was sent.
_SENT_VALUES: dict[str, object] = {
    "status": "sent",
    "sent_at": bindparam("now"),
    "updated_at": bindparam("now"),
    "last_error": None,
    "subject": bindparam("subject"),
    "body_text": bindparam("body_text"),
    "body_html": bindparam("body_html"),
}
# Built once: a batch's outcomes are written with one executemany each.
_SENT = update(_messages).where(_ours).values(**_SENT_VALUES)
# Claimed but not tried (the server went down before their turn): back in the
# queue as they were, due at once.
_RELEASE = (
    update(_messages).where(_ours).values(status="queued", attempts=_c.attempts - 1, next_attempt_at=bindparam("now"))
)
# A mark written late (see Unmarked): the server accepted the message, so it is
# sent whoever holds the row now, unless it was marked already or failed.
_SENT_LATE = (
    update(_messages)
    .where(_c.id == bindparam("message_id"), _c.status.in_(("sending", "queued")))
    .values(**_SENT_VALUES)
)
# Waits between the tries of a mark the database refused (~8 s in all: a restart).
MARK_RETRY_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
SUBJECT_LENGTH = 500  # the column's


class Unmarked:
    """Messages the SMTP server accepted whose mark could not be written (the
    database was away for longer than the retries), kept by this process
    (one per app: ``MailState.unmarked``) and written before its next
    delivery or sweep.  Only if the process dies first is such a message sent
    again, once, after its lease, under the same Message-ID."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[int, dict] = {}

    def add(self, row: dict) -> None:
        with self.lock:
            self.rows[row["message_id"]] = row

    def take(self) -> list[dict]:
        with self.lock:
            rows, self.rows = list(self.rows.values()), {}
        return rows

    def put_back(self, rows: list[dict]) -> None:
        with self.lock:
            for row in rows:
                self.rows.setdefault(row["message_id"], row)

    def __len__(self) -> int:
        with self.lock:
            return len(self.rows)


def unmarked_of(app) -> Unmarked:
    state = app.extensions["award_mail"]
    return state.unmarked


def write_unmarked(session, app) -> int:
    """Write the marks this process could not write before; how many.  Left
    for later (and not raised) while the database is still away."""
    keep = unmarked_of(app)
    rows = keep.take()
    if not rows:
        return 0
    try:
        written = session.connection().execute(_SENT_LATE, rows).rowcount
        session.commit()
    except SQLAlchemyError as exc:
        _rollback(session)
        keep.put_back(rows)
        if not database_unavailable(exc):
            raise
        log.warning("%d outbox messages accepted by the SMTP server are still to be marked sent", len(rows))
        return 0
    log.info("%d outbox messages accepted by the SMTP server earlier were marked sent", len(rows))
    return written if written >= 0 else len(rows)


def _rollback(session) -> None:
    try:
        session.rollback()
    except SQLAlchemyError:  # the connection is gone: the next use takes a fresh one
        log.debug("rollback on a lost connection", exc_info=True)


class Sender:
    """Sends claimed messages through one transport (one SMTP connection for a
    batch of them).

    A batch (at most ``BATCH`` ids) costs a few round trips and one a message:
    one UPDATE claims them all; the composers read in one transaction; the
    messages are built and handed to the transport with no transaction open;
    each is marked sent, with the text that was sent, as soon as the server
    has accepted it.  A sender that dies mid-batch leaves the messages it had
    not yet handed over claimed until the lease runs out, then a sweep sends
    them; of those handed over only the last can have been accepted without
    its mark (sent again then, under the same Message-ID)."""

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
        self.lease = lease(config)
        delays = config.get("AWARD_MAIL_MARK_RETRY_DELAYS")
        self.mark_retry_delays = tuple(MARK_RETRY_DELAYS if delays is None else delays)
        self.unmarked = unmarked_of(app)
        self.broken = False  # the SMTP server cannot be reached: the rest wait for the sweep
        self.database_down = False  # outcomes cannot be written: the rest wait for their lease

    def close(self) -> None:
        self.transport.close()

    def send(self, session, message_id: int, now: datetime | None = None) -> str | None:
        """Claim and send one message; its new status, or None when it was not claimed."""
        return self.send_batch(session, [message_id], now).get(message_id)

    def send_batch(self, session, ids, now: datetime | None = None) -> dict[int, str]:
        """Claim and send these messages; the new status of each one claimed
        ("skipped": its lease ran out before its outcome was written)."""
        now = now or utcnow()
        claimed = claim_many(session, ids, now, self.lease)
        if not claimed:
            return {}
        # Hand nothing over in the last quarter of the lease: a sweep may take
        # the messages over then, and would send them as well.
        hand_over_until = time.monotonic() + self.lease.total_seconds() * 0.75
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
        untried = []
        for message, attachments in ready:
            if self.broken or self.database_down or time.monotonic() > hand_over_until:
                untried.append(message)
                continue
            try:
                outcome = self._transmit(session, message, attachments, now)
                if outcome is None:  # the server accepted it: marked at once
                    outcome = self._mark_sent(session, message, now)
            except SQLAlchemyError as exc:  # writing a failure's outcome
                if not database_unavailable(exc):
                    raise
                _rollback(session)
                self.database_down = True
                log.warning("outbox message %s: its outcome could not be written (database unavailable)", message.id)
                continue  # the message stays claimed until its lease runs out
            outcomes[message.id] = outcome
        self._release(session, untried, now)
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

    def _mark_sent(self, session, message, now: datetime) -> str:
        """Mark one message sent, with the text that was sent, right after the
        server accepted it.  A database that refuses (restarting, locked) is
        tried again for a few seconds; then the mark is kept in this process
        for its next delivery (:class:`Unmarked`) and the batch stops.  A
        message whose lease ran out meanwhile is not marked: the sender that
        took it over writes its outcome."""
        row = {
            "message_id": message.id,
            "attempt": message.attempts,
            "now": now,
            "subject": message.subject,
            "body_text": message.body_text,
            "body_html": message.body_html,
        }
        delays = iter(self.mark_retry_delays)
        kept_as_it_was = True
        while True:
            try:
                marked = session.connection().execute(_SENT, row).rowcount
                session.commit()
                break
            except SQLAlchemyError as exc:
                _rollback(session)
                if not database_unavailable(exc):
                    if not kept_as_it_was:
                        raise
                    # Not an outage: the text cannot be kept as it was (a subject longer than its
                    # column).  The message was sent, so it is marked all the same, with the text
                    # cut to what the columns take: an unmarked message would be sent again.
                    log.exception("outbox message %s: the text sent is kept cut to fit", message.id)
                    row, kept_as_it_was = {**row, **_storable(row)}, False
                    continue
                delay = next(delays, None)
                if delay is None:
                    self.unmarked.add({k: v for k, v in row.items() if k != "attempt"})
                    self.database_down = True
                    log.warning(
                        "outbox message %s was accepted by the SMTP server but cannot be marked sent yet "
                        "(database unavailable): kept to be marked later",
                        message.id,
                    )
                    MAIL_SENT.labels(message.kind).inc()
                    return "sent"
                time.sleep(delay)
        if marked == 0:
            log.warning("outbox message %s was sent after its lease ran out", message.id)
        MAIL_SENT.labels(message.kind).inc()
        log.info("outbox message %s sent", message.id, extra=_about(message))
        return "sent"

    def _release(self, session, untried: list, now: datetime) -> None:
        """The claimed messages not handed over go back to the queue, due at
        once; if the database cannot take that either, their lease frees them."""
        if not untried:
            return
        try:
            session.connection().execute(
                _RELEASE, [{"message_id": m.id, "attempt": m.attempts, "now": now} for m in untried]
            )
            session.commit()
        except SQLAlchemyError as exc:
            _rollback(session)
            if not database_unavailable(exc):
                raise
            log.warning("%d claimed outbox messages wait for their lease (database unavailable)", len(untried))

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
            "outbox message %s: attempt %s failed, retrying: %s",
            message.id,
            attempts,
            for_log(error),
            extra=_about(message),
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
        log.warning("outbox message %s failed: %s", message.id, for_log(error), extra=_about(message))
        return "failed"


def _about(message) -> dict:
    """Log fields of a message: the request that decided it (issue 13), its id and kind."""
    return {"request_id": getattr(message, "request_id", None), "outbox_id": message.id, "kind": message.kind}


_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")


def for_log(error: str) -> str:
    """An SMTP server's answer as the logs may keep it: servers name the
    recipient ("550 5.1.1 <asel@example.kz>: Recipient address rejected"), and
    logs carry no personal data.  (The row keeps the answer as it was, for
    the organisers.)"""
    return _ADDRESS.sub("<address>", error)


def _storable(row: dict) -> dict:
    """The text of a mark cut to what the columns take (no NUL, which
    PostgreSQL's text refuses; the subject at its column's length)."""
    subject = (row["subject"] or "").replace("\x00", "")[:SUBJECT_LENGTH]
    body_text = (row["body_text"] or "").replace("\x00", "")
    body_html = row["body_html"].replace("\x00", "") if row["body_html"] else None
    return {"subject": subject, "body_text": body_text, "body_html": body_html}


def _text(message) -> dict:
    return {"subject": message.subject, "body_text": message.body_text, "body_html": message.body_html}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def deliver(session, ids, now: datetime | None = None) -> dict[str, int]:
    """Send these messages (just committed) now, a batch at a time; counts by
    outcome ("skipped": not ours to send, or taken over)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # LocalProxy
    write_unmarked(session, app)  # first: none of those is claimed and sent again
    sender = Sender(app)
    give_way = GiveWay.for_thread(app.config)
    counts: dict[str, int] = {}
    ids = list(dict.fromkeys(ids))
    try:
        for start in range(0, len(ids), Sender.BATCH):
            if sender.broken or sender.database_down:
                break  # the server or the database is down: the rest stay queued for the sweep
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
    write_unmarked(session, current_app._get_current_object())  # type: ignore[attr-defined]  # LocalProxy
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
