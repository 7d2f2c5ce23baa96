"""The audit trail: :func:`record` is called inside the transaction of the change."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

if TYPE_CHECKING:
    from ..accounts.models import User


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where.  Services take it as an argument so that they
    run the same from a view, the API, the CLI or a worker."""

    user: "User | None" = None
    client_addr: str | None = None
    label: str | None = None

    @property
    def display(self) -> str:
        if self.user is not None:
            return self.user.email
        return self.label or "public"

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(None, None, label)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


def record(session, actor: Actor, action: str, object_type: str, object_id,
           before: dict | None = None, after: dict | None = None, reason: str | None = None) -> None:
    """Write one audit event now, inside the caller's transaction (one INSERT,
    no unit-of-work bookkeeping: events are never read back in the same
    transaction)."""
    from ..timeutil import utcnow
    from .models import INSERT_AUDIT_EVENT

    session.connection().execute(INSERT_AUDIT_EVENT, dict(
        occurred_at=utcnow(),
        actor_id=actor.user.id if actor.user is not None else None,
        actor_label=actor.display,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        reason=reason or None,
        client_addr=actor.client_addr,
    ))


def history(session, object_type: str, object_id) -> list:
    from .models import AuditEvent

    return list(session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.id)
    ))


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
