"""The waiting list of a full ceremony that keeps one.

A registration that finds no seats joins the list (status ``waitlisted``).
Whenever seats free up (a cancellation, a larger capacity) :func:`promote`
confirms the first waiting registrations that fit, in list order, skipping a
group too large for what is free (it keeps its place).  Promotions of one
ceremony are serialised by the ceremony row, written first (a row lock on
PostgreSQL, the write lock on SQLite), and the seats are taken with the same
conditional UPDATE as a registration, so seats taken never exceed capacity.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, ScalarSelect, and_, func, or_, select, update

from ..actor import Actor
from ..audit import record
from ..errors import Conflict, NotFound
from ..extensions import DbSession
from ..timeutil import utcnow
from . import messages
from .models import Ceremony, Registration


def _lock(session: DbSession, ceremony_id: int) -> Row[int, int, bool, str, datetime] | None:
    """Write the ceremony row first (locks it until the commit) and read it."""
    return session.execute(
        update(Ceremony)
        .where(Ceremony.id == ceremony_id)
        .values(seats_taken=Ceremony.seats_taken)
        .returning(Ceremony.capacity, Ceremony.seats_taken, Ceremony.waitlist, Ceremony.status, Ceremony.starts_at)
        .execution_options(synchronize_session=False)
    ).first()


def waiting(session: DbSession, ceremony_id: int) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration)
            .where(Registration.ceremony_id == ceremony_id, Registration.status == "waitlisted")
            .order_by(Registration.waitlist_order, Registration.id)
        )
    )


def position(session: DbSession, registration: Registration) -> int | None:
    """1 for the first in line; None when not waiting."""
    if registration.status != "waitlisted":
        return None
    ahead = session.execute(
        select(func.count()).where(
            Registration.ceremony_id == registration.ceremony_id,
            Registration.status == "waitlisted",
            or_(
                Registration.waitlist_order < registration.waitlist_order,
                and_(Registration.waitlist_order == registration.waitlist_order, Registration.id < registration.id),
            ),
        )
    ).scalar_one()
    return ahead + 1


def next_order(ceremony_id: int) -> ScalarSelect[int]:
    """The end of the list, as a subquery evaluated in the INSERT itself."""
    return (
        select(func.coalesce(func.max(Registration.waitlist_order), 0) + 1)
        .where(Registration.ceremony_id == ceremony_id, Registration.status == "waitlisted")
        .scalar_subquery()
    )


def promote(session: DbSession, actor: Actor, ceremony_id: int, *, now: datetime | None = None) -> list[Registration]:
    """Confirm the first waiting registrations that fit the free seats, inside
    the caller's transaction (the caller commits).  Returns them, in order."""
    now = now or utcnow()
    row = _lock(session, ceremony_id)
    if row is None or not row.waitlist or row.status not in ("published", "closed") or row.starts_at <= now:
        return []
    free = row.capacity - row.seats_taken
    promoted: list[Registration] = []
    for registration in waiting(session, ceremony_id):
        if free <= 0:
            break
        if registration.seats > free:
            continue  # a larger group waits for more seats, keeping its place
        # The registration first: one cancelled at this moment is passed over.
        confirmed = session.execute(
            update(Registration)
            .where(Registration.id == registration.id, Registration.status == "waitlisted")
            .values(status="confirmed", waitlist_order=None)
            .returning(Registration.id)
            .execution_options(synchronize_session=False)
        ).first()
        if confirmed is None:
            continue
        # Under the ceremony's lock the seats cannot have gone; the condition
        # (and the CHECK behind it) keep the guarantee all the same.
        taken = session.execute(
            update(Ceremony)
            .where(Ceremony.id == ceremony_id, Ceremony.seats_taken + registration.seats <= Ceremony.capacity)
            .values(seats_taken=Ceremony.seats_taken + registration.seats)
            .returning(Ceremony.seats_taken)
            .execution_options(synchronize_session=False)
        ).first()
        if taken is None:
            raise Conflict(_l("The seats changed meanwhile; try again."), code="conflict")
        record(
            session,
            actor,
            "registration.promote",
            "registration",
            registration.id,
            before={"status": "waitlisted"},
            after={"status": "confirmed", "seats": registration.seats},
        )
        if registration.email:
            messages.registration_promoted(session, registration.id, now=now)  # sent after the commit
        free -= registration.seats
        promoted.append(registration)
    for registration in promoted:
        session.expire(registration)
    return promoted


def move(session: DbSession, actor: Actor, registration: Registration, direction: str) -> int:
    """Move a waiting registration one place up or down; its new position."""
    if registration.status != "waitlisted":
        raise Conflict(_l("This registration is not on the waiting list."), code="invalid_transition")
    if direction not in ("up", "down"):
        raise NotFound()
    _lock(session, registration.ceremony_id)
    line = waiting(session, registration.ceremony_id)
    index = next((i for i, r in enumerate(line) if r.id == registration.id), None)
    if index is None:
        session.rollback()
        raise Conflict(_l("This registration is not on the waiting list."), code="invalid_transition")
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(line):
        line[index], line[target] = line[target], line[index]
        for order, waiting_registration in enumerate(line, start=1):
            waiting_registration.waitlist_order = order
        record(
            session,
            actor,
            "registration.waitlist_move",
            "registration",
            registration.id,
            before={"position": index + 1},
            after={"position": target + 1},
        )
    session.commit()
    return min(max(target, 0), len(line) - 1) + 1
