"""Ceremonies and registrations: the domain operations.

Every function takes the session and the acting :class:`Actor`, raises
:class:`DomainError` subclasses, writes its audit event in the same
transaction, and commits.  None reads Flask's request or current user.

Capacity: a registration takes its seats with one conditional UPDATE
(``seats_taken + n <= capacity``) issued as the last statement before the
commit, so the row lock is held briefly (PostgreSQL) and SQLite's write lock is
taken by the first write of the transaction.  The database CHECK constraint
``seats_taken <= capacity`` is the final guard.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from ..accounts.permissions import can
from ..actor import Actor
from ..audit import diff, record
from ..districts.models import District
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import DbSession
from ..timeutil import utcnow
from . import messages, validation, waitlist
from .models import Ceremony
from .states import CEREMONY_TRANSITIONS, CeremonyStatus

REGISTRATION_CLOSED_MESSAGES = {
    "cancelled": _l("This ceremony has been cancelled."),
    "closed": _l("Registration for this ceremony is closed."),
    "not_yet": _l("Registration for this ceremony has not opened yet."),
    "past": _l("This ceremony has already taken place."),
    "draft": _l("This ceremony is not published."),
}


def ceremony_closed_error(state: str) -> Conflict:
    return Conflict(REGISTRATION_CLOSED_MESSAGES[state], code="registration_closed")


def full_error(ceremony: Ceremony, seats_wanted: int = 1) -> Conflict:
    if ceremony.seats_left > 0:
        message = _l(
            "Only %(left)d seat(s) left, and %(wanted)d were asked for. Come with fewer companions, "
            "or choose another ceremony.",
            left=ceremony.seats_left,
            wanted=seats_wanted,
        )
    else:
        message = _l("Sorry, all seats are taken (%(capacity)d of %(capacity)d).", capacity=ceremony.capacity)
    return Conflict(message, code="ceremony_full", seats_left=ceremony.seats_left)


def _district(session: DbSession, code: str | None) -> District | None:
    return session.scalar(select(District).where(District.code == code)) if code else None


# ---------------------------------------------------------------- ceremonies


def _check_district_scope(actor: Actor, district: District) -> None:
    """A district-scoped organiser creates and moves ceremonies only within their district."""
    if actor.user is not None and not can(actor.user, "ceremonies.manage", district):
        raise Forbidden(
            _l("You can manage ceremonies only in your own district."),
            fields={"district": _l("Outside your district.")},
        )


def create_ceremony(
    session: DbSession, actor: Actor, data: dict[str, Any], *, tz: str, now: datetime | None = None
) -> Ceremony:
    now = now or utcnow()
    clean = validation.parse_ceremony(
        data, tz=tz, now=now, creating=True, district_lookup=lambda c: _district(session, c)
    )
    _check_district_scope(actor, clean["district"])
    ceremony = Ceremony(created_by_id=actor.user.id if actor.user else None, seats_taken=0, **clean)
    session.add(ceremony)
    session.flush()
    record(session, actor, "ceremony.create", "ceremony", ceremony.id, after=ceremony.snapshot())
    session.commit()
    return ceremony


def update_ceremony(
    session: DbSession, actor: Actor, ceremony: Ceremony, data: dict[str, Any], *, tz: str, now: datetime | None = None
) -> Ceremony:
    if ceremony.status == "cancelled":
        raise Conflict(_l("A cancelled ceremony cannot be edited."), code="invalid_transition")
    now = now or utcnow()
    clean = validation.parse_ceremony(
        data, tz=tz, now=now, creating=False, current=ceremony, district_lookup=lambda c: _district(session, c)
    )
    clean.pop("status", None)
    _check_district_scope(actor, clean["district"])
    if clean["capacity"] < ceremony.seats_taken:
        raise ValidationFailed(
            {
                "capacity": _l(
                    "%(taken)d seats are already taken; the capacity cannot be lower.", taken=ceremony.seats_taken
                )
            }
        )
    before = ceremony.snapshot()
    for key, value in clean.items():
        setattr(ceremony, key, value)
    b, a = diff(before, ceremony.snapshot())
    if a:
        record(session, actor, "ceremony.update", "ceremony", ceremony.id, before=b, after=a)
        messages.ceremony_changed(session, ceremony.id, {k: (b.get(k), v) for k, v in a.items()})
    try:
        if "capacity" in a or "waitlist" in a:
            session.flush()
            waitlist.promote(session, actor, ceremony.id, now=now)  # more seats: to those waiting
        session.commit()
    except IntegrityError:
        # A registration took seats between our read and this write.
        session.rollback()
        raise ValidationFailed(
            {"capacity": _l("More seats were taken meanwhile; the capacity cannot be lower.")}
        ) from None
    return ceremony


def transition_ceremony(
    session: DbSession, actor: Actor, ceremony: Ceremony, action: str, reason: str | None = None
) -> Ceremony:
    if action not in CEREMONY_TRANSITIONS:
        raise ValidationFailed({"action": _l("Unknown action.")})
    sources, target = CEREMONY_TRANSITIONS[action]
    before = ceremony.status
    if before not in sources:
        raise Conflict(
            _l("A ceremony that is %(status)s cannot be changed this way.", status=CeremonyStatus(before).phrase),
            code="invalid_transition",
        )
    # Conditional on the state we saw, so two organisers acting at once get one winner.
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # an UPDATE: a CursorResult
        update(Ceremony)
        .where(Ceremony.id == ceremony.id, Ceremony.status == before)
        .values(status=target, updated_at=utcnow())
    )
    if result.rowcount != 1:
        session.rollback()
        raise Conflict(code="conflict")
    record(
        session,
        actor,
        f"ceremony.{action}",
        "ceremony",
        ceremony.id,
        before={"status": before},
        after={"status": target},
        reason=reason,
    )
    if target == "cancelled":
        messages.ceremony_cancelled(session, ceremony.id)  # everyone registered, after the commit
    session.commit()
    session.refresh(ceremony)
    return ceremony


def get_ceremony(session: DbSession, ceremony_id: int | str, *, include_drafts: bool = False) -> Ceremony:
    try:
        ceremony_id = int(ceremony_id)
    except (TypeError, ValueError):
        raise NotFound(_l("No such ceremony.")) from None
    ceremony = session.get(Ceremony, ceremony_id) if 0 < ceremony_id < 2**31 else None
    if ceremony is None or (ceremony.status == "draft" and not include_drafts):
        raise NotFound(_l("No such ceremony."))
    return ceremony


def upcoming_ceremonies(session: DbSession, now: datetime | None = None) -> list[Ceremony]:
    now = now or utcnow()
    return list(
        session.scalars(
            select(Ceremony)
            .where(Ceremony.status == "published", Ceremony.starts_at > now)
            .order_by(Ceremony.starts_at, Ceremony.id)
        )
    )


# ------------------------------------------------------------- registrations


# The registration path runs for every attendee, so its statements are built
# once, on the tables (plain Core: no ORM unit of work), with bound parameters.
