"""Door check-in: find a ticket by the code scanned or typed (or the person by
name or phone), admit them with the companions who came, once.

Two doors scanning one ticket at the same moment record one check-in: the
admission is one conditional UPDATE (``WHERE checked_in_at IS NULL``), and
whoever finds it already done is told when it happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from .. import codes
from ..accounts.permissions import can
from ..actor import Actor
from ..audit import record
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import DbSession
from ..i18n import locale_code
from ..timeutil import utcnow
from .models import Ceremony, Registration

WAITLISTED = _l("This registration is still on the waiting list: no seat is theirs yet.")


@dataclass(frozen=True)
class Admission:
    registration: Registration
    checked_in_at: datetime | None  # set: the registration was admitted (now or before)
    already: bool  # admitted before (this scan admits no one)


def ticket(session: DbSession, code: object) -> Registration:
    """The registration whose ticket carries this code; NotFound for a code
    that is malformed or on no ticket (the same answer: nothing to learn)."""
    normalised = codes.normalise(code)
    registration = None
    if normalised is not None:
        registration = session.scalar(select(Registration).where(Registration.ticket_code == normalised))
    if registration is None:
        raise NotFound(_l("No ticket has this code. Check the code, or find the person by name or phone."))
    return registration


def _companions(value: int | str | None, registration: Registration) -> int:
    if value in (None, ""):
        return registration.companions
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if isinstance(value, bool) or not 0 <= number <= registration.companions:
        raise ValidationFailed(
            {
                "companions_arrived": _l(
                    "Between 0 and %(n)d: the companions registered with this ticket.", n=registration.companions
                )
            }
        )
    return number


def check_in(
    session: DbSession,
    actor: Actor,
    registration: Registration,
    companions_arrived: int | str | None = None,
    *,
    ceremony: Ceremony | None = None,
    now: datetime | None = None,
) -> Admission:
    """Admit the ticket's holder and ``companions_arrived`` of their companions
    (all of them when not given).  Refused: a cancelled registration, another
    ceremony's ticket (when the door is for ``ceremony``), more companions than
    registered.  A second admission admits no one: ``already`` is set."""
    if actor.user is not None and not can(actor.user, "checkin.manage", registration.ceremony):
        raise Forbidden()
    if ceremony is not None and registration.ceremony_id != ceremony.id:
        raise Conflict(
            _l("This ticket is for another ceremony: %(title)s.", title=registration.ceremony.title(locale_code())),
            code="wrong_ceremony",
        )
    if registration.status == "cancelled":
        raise Conflict(_l("This registration was cancelled; the ticket is not valid."), code="cancelled")
    if registration.status == "waitlisted":
        raise Conflict(WAITLISTED, code="waitlisted")
    arrived = _companions(companions_arrived, registration)
    now = now or utcnow()
    admitted = session.execute(
        update(Registration)
        .where(
            Registration.id == registration.id, Registration.status == "confirmed", Registration.checked_in_at.is_(None)
        )
        .values(checked_in_at=now, companions_arrived=arrived, checked_in_by_id=actor.user.id if actor.user else None)
        .returning(Registration.id)
        .execution_options(synchronize_session=False)
    ).first()
    if admitted is None:
        session.rollback()
        session.refresh(registration)
        if registration.status == "cancelled":
            raise Conflict(_l("This registration was cancelled; the ticket is not valid."), code="cancelled")
        return Admission(registration, registration.checked_in_at, already=True)
    record(
        session,
        actor,
        "registration.checkin",
        "registration",
        registration.id,
        after={"companions_arrived": arrived, "seats": registration.seats},
    )
    session.commit()
    session.refresh(registration)
    return Admission(registration, registration.checked_in_at, already=False)


@dataclass(frozen=True)
class Counts:
    arrived: int  # people in: attendees checked in and the companions who came with them
    registered: int  # seats of the active registrations
    capacity: int


def counts(session: DbSession, ceremony: Ceremony) -> Counts:
    arrived = session.scalar(
        select(func.coalesce(func.sum(1 + Registration.companions_arrived), 0)).where(
            Registration.ceremony_id == ceremony.id, Registration.checked_in_at.is_not(None)
        )
    )
    registered = session.scalar(
        select(func.coalesce(func.sum(Registration.seats), 0)).where(
            Registration.ceremony_id == ceremony.id, Registration.status == "confirmed"
        )
    )
    return Counts(arrived=int(arrived or 0), registered=int(registered or 0), capacity=ceremony.capacity)
