"""The outbox: one row per e-mail decided, written in the transaction that
decided it, sent after that transaction commits.

A row is written with what was decided -- the kind, the recipient, their
language, what it is about and ``params`` (JSON: the waiting-list position, the
changes made, the reason given; ``{}`` when nothing more) -- and no text.  The
sender composes such a message at each attempt from the rows as they are then
(a retry after the ceremony moved tells the new time) and keeps the subject and
bodies it sent, for organisers to read; the attachments (a ticket is about
28 KB) are rendered each time and not kept.  A request therefore pays one
INSERT for an e-mail, not the rendering of a ticket.  A message without params
was given its text (and attachments) when enqueued -- all messages written
before migration 0010 -- and is sent as it is.

    queued --claim--> sending --ok--> sent
      ^                  |
      |   temporary      |  permanent (5xx for the recipient)
      +-- failure -------+-----------> failed  (also after the last attempt)
      |                                  |
      +------------ retry (organiser) ---+

``next_attempt_at`` is when a queued message is due; while a message is
``sending`` it is the end of the sender's lease, after which a sweep takes the
message over (a sender that died mid-send does not hold it for ever).
"""

from __future__ import annotations

import json
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, sql_in
from ..states import Labelled, machine
from ..timeutil import UTCDateTime, utcnow


@machine("outbox")
class OutboxStatus(Labelled):
    QUEUED = "queued", _l("queued")
    SENDING = "sending", _l("sending")
    SENT = "sent", _l("sent")
    FAILED = "failed", _l("failed")


# A message is claimed for sending; an attempt ends sent, failed (permanently,
# or out of attempts) or queued again for a retry; an organiser may queue a
# failed one again.
OUTBOX_TRANSITIONS: dict[str, frozenset[str]] = {
    OutboxStatus.QUEUED: frozenset({OutboxStatus.SENDING, OutboxStatus.FAILED}),
    OutboxStatus.SENDING: frozenset({OutboxStatus.SENT, OutboxStatus.QUEUED, OutboxStatus.FAILED}),
    OutboxStatus.SENT: frozenset(),
    OutboxStatus.FAILED: frozenset({OutboxStatus.QUEUED}),
}
STATUSES = OutboxStatus.values()


class OutboxMessage(Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(sql_in("status", STATUSES), name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        CheckConstraint(
            "status <> 'sent' OR (subject IS NOT NULL AND body_text IS NOT NULL)", name="sent_was_composed"
        ),
        # The sweep: due queued messages (and expired leases) by time.
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_messages_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    # NULL until composed (see above).
    subject: Mapped[str | None] = mapped_column(String(500))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    params: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set for messages that must be decided once only (reminders); NULLs do not collide.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # What the message is about, for people reading the outbox (no foreign key:
    # a message outlives nothing it refers to, and is never cascaded away).
    object_type: Mapped[str | None] = mapped_column(String(30))
    object_id: Mapped[str | None] = mapped_column(String(40))
    # The district the message belongs to, for district-scoped organisers.
    district_id: Mapped[int | None] = mapped_column(Integer)
    # The request that decided it (X-Request-ID), for the sender's log lines; NULL outside a request.
    request_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message", order_by="OutboxAttachment.id", cascade="all, delete-orphan", passive_deletes=True
    )


class OutboxAttachment(Model):
    """An attachment given with a message's text when it was enqueued (the
    messages written before migration 0010 kept their ticket PDF, about
    130 KB, here; the sender renders its own attachments at each attempt).  Dropped from sent messages after
    AWARD_MAIL_KEEP_DAYS (``flask mail purge``)."""

    __tablename__ = "outbox_attachments"
    __table_args__ = (CheckConstraint("size >= 0", name="size_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")


def dump_params(params: dict | None) -> str:
    """``params`` as kept in the row: JSON, ``{}`` at least -- a message with
    params is one the sender composes (see :mod:`.models`)."""
    return json.dumps(params or {}, ensure_ascii=False, sort_keys=True, default=_json_default)


def _json_default(value):
    if hasattr(value, "isoformat"):  # datetimes, dates
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be kept in a message's params")


def load_params(message) -> dict:
    return json.loads(message.params) if message.params else {}
