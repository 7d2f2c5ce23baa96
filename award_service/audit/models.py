from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import JSON, ForeignKey, Index, String, Table, Text, insert
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..actor import ActingUser
from ..extensions import Model
from ..timeutil import UTCDateTime, utcnow


class AuditEvent(Model):
    """One state change: who, what, when, from -> to, why, from where.

    Append-only: the application never updates or deletes a row, and database
    triggers (see the first migration) refuse UPDATE and DELETE.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    client_addr: Mapped[str | None] = mapped_column(String(64))

    # The account that acted (accounts sit above audit: named, not imported).
    actor: Mapped[ActingUser | None] = relationship("User", lazy="joined")


# Built once: record() runs in every state change.
INSERT_AUDIT_EVENT = insert(cast(Table, AuditEvent.__table__))
