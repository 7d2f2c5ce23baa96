"""The audit trail: :func:`record` is called inside the transaction of the change."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Insert, String, Table, bindparam, insert, select
from sqlalchemy import cast as sa_cast

from ..actor import Actor
from ..extensions import DbSession
from ..timeutil import utcnow
from .models import INSERT_AUDIT_EVENT, AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


def event_values(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The row of one audit event, as :func:`record` writes it."""
    return {
        "occurred_at": utcnow(),
        "actor_id": actor.user.id if actor.user is not None else None,
        "actor_label": actor.display,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": _jsonable(before) if before is not None else None,
        "after": _jsonable(after) if after is not None else None,
        "reason": reason or None,
        "client_addr": actor.client_addr,
    }


def record(
    session: DbSession,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Write one audit event now, inside the caller's transaction (one INSERT,
    no unit-of-work bookkeeping: events are never read back in the same
    transaction)."""
    session.connection().execute(
        INSERT_AUDIT_EVENT, event_values(actor, action, object_type, object_id, before, after, reason)
    )


def insert_event_from(object_id: ColumnElement[Any], prefix: str = "audit_") -> Insert:
    """An INSERT … SELECT of one audit event about the row a statement made in
    the same statement (``object_id``: a column of a data-modifying CTE's
    RETURNING, so the event is written only if that row was).  Every other
    value is a bind parameter named ``prefix`` + column: fill them with
    :func:`event_values`' row, its keys so prefixed (``object_id`` unused)."""
    columns = [c for c in _EVENT_COLUMNS if c != "object_id"]
    table = cast(Table, AuditEvent.__table__)
    values = [bindparam(prefix + c, type_=table.c[c].type) for c in columns]
    return insert(table).from_select([*columns, "object_id"], select(*values, sa_cast(object_id, String)))


_EVENT_COLUMNS = (
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "reason",
    "client_addr",
)


def history(session: DbSession, object_type: str, object_id: object) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.id)
        )
    )


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def history_json(session: Any, object_type: str, object_id: Any) -> list[dict[str, Any]]:
    """An object's history as the JSON API shows it, oldest first."""
    return [
        {
            "at": e.occurred_at.isoformat() if e.occurred_at is not None else None,
            "actor": e.actor_label,
            "action": e.action,
            "before": e.before,
            "after": e.after,
            "comment": e.reason,
        }
        for e in history(session, object_type, object_id)
    ]
