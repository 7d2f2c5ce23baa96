"""Registrations: taking seats (one conditional UPDATE, so a ceremony is never
overbooked; on PostgreSQL with the registration's other writes in one
statement), joining the waiting list of a full one, finding and cancelling by
the private link, and the staff's list."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from functools import cache
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    false,
    insert,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import scoped_session

from .. import codes
from ..actor import Actor
from ..audit import event_values, insert_event_from, record
from ..errors import Conflict, NotFound
from ..extensions import DbSession
from ..mail.outbox import is_suppressed, send_after_commit
from ..names import search_key
from ..telemetry import CANCELLATIONS, REGISTRATIONS
from ..timeutil import UTCDateTime, utcnow
from . import messages, validation, waitlist
from .models import Ceremony, Registration
from .service import REGISTRATION_CLOSED_MESSAGES, ceremony_closed_error, full_error, get_ceremony

_registrations = cast(Table, Registration.__table__)
_ceremonies = cast(Table, Ceremony.__table__)


def _find_active_duplicate(session: DbSession, ceremony_id: int, email: str | None, phone: str | None) -> int | None:
    conditions = []
    if email:
        conditions.append(Registration.email == email)
    if phone:
        conditions.append(Registration.phone == phone)
    return session.scalar(
        select(Registration.id)
        .where(Registration.ceremony_id == ceremony_id, Registration.status != "cancelled", or_(*conditions))
        .limit(1)
    )


def duplicate_error(existing_id: int, *, staff: bool = False) -> Conflict:
    """The same phone or e-mail is already active here; told to the person, or
    (``staff``) to the organiser registering someone."""
    if staff:
        message = _l(
            "This person is already registered for this ceremony with this phone or e-mail "
            "(registration № %(id)d). Find it in the list of registrations.",
            id=existing_id,
        )
    else:
        message = _l(
            "You are already registered for this ceremony (registration № %(id)d). "
            "Use the link from your confirmation to view or cancel it.",
            id=existing_id,
        )
    return Conflict(message, code="duplicate_registration", registration_id=existing_id)


def _refusal(
    session: DbSession,
    ceremony_id: int,
    clean: dict[str, Any],
    staff_override_window: bool,
    now: datetime,
    *,
    staff: bool = False,
) -> Conflict:
    """Why a registration was not taken: explain after the rollback, reading at leisure."""
    ceremony = get_ceremony(session, ceremony_id)  # NotFound for unknown and draft ceremonies
    state = ceremony.registration_state(now)
    if staff_override_window and state in ("closed", "not_yet"):
        state = "open"
    if state in REGISTRATION_CLOSED_MESSAGES:
        return ceremony_closed_error(state)
    existing = _find_active_duplicate(session, ceremony.id, clean["email"], clean["phone"])
    if existing is not None:
        return duplicate_error(existing, staff=staff)
    return full_error(ceremony, clean["seats"])


_INSERT_REGISTRATION = insert(_registrations).returning(_registrations.c.id)


def _take_seats(staff_override_window: bool) -> Update:
    """One conditional UPDATE takes the seats and checks the ceremony is open
    (bind parameters ``ceremony_id``, ``seats``, ``now``): no row, no seats."""
    c = _ceremonies.c
    seats, now = bindparam("seats", type_=Integer), bindparam("now", type_=UTCDateTime())
    conditions = [
        c.id == bindparam("ceremony_id", type_=Integer),
        c.starts_at > now,
        c.seats_taken + seats <= c.capacity,
    ]
    if staff_override_window:
        conditions.append(c.status.in_(("published", "closed")))
    else:
        conditions += [
            c.status == "published",
            or_(c.registration_opens_at.is_(None), c.registration_opens_at <= now),
            or_(c.registration_closes_at.is_(None), c.registration_closes_at > now),
        ]
    return update(_ceremonies).where(*conditions).values(seats_taken=c.seats_taken + seats, updated_at=now)


_TAKE_SEATS = {override: _take_seats(override).returning(_ceremonies.c.seats_taken) for override in (False, True)}


@cache
def _register_at_once(columns: tuple[str, ...], staff_override_window: bool, with_mail: bool) -> Select[Any]:
    """PostgreSQL: a registration's writes as one statement, one round trip.

    Data-modifying CTEs, each feeding the next through its RETURNING: take the
    seats (the conditional UPDATE, which also locks the ceremony row until the
    commit), insert the registration only if they were taken (``r_`` +
    column), its audit event (``audit_`` + column) and, when it has an e-mail,
    its confirmation.  No row back: the seats were not taken and nothing was
    written.  A second active registration with the same phone or e-mail is
    refused by the partial unique indexes (IntegrityError), as in the
    statement-by-statement way."""
    r = _registrations
    seats = _take_seats(staff_override_window).returning(_ceremonies.c.id, _ceremonies.c.district_id).cte("seats")
    values = select(*(bindparam("r_" + name, type_=r.c[name].type) for name in columns)).select_from(seats)
    made = (
        insert(r)
        .from_select(list(columns), values)
        .returning(r.c.id, r.c.ceremony_id, r.c.email, r.c.language)
        .cte("made")
    )
    event = insert_event_from(made.c.id).cte("event")
    if not with_mail:
        return select(made.c.id, null().label("message_id")).add_cte(event)
    message = messages.confirmation_from(made, seats).cte("message")
    return (
        select(made.c.id, message.c.id.label("message_id")).select_from(made.outerjoin(message, true())).add_cte(event)
    )


def register(
    session: DbSession,
    actor: Actor,
    ceremony_id: int | str,
    data: dict[str, Any],
    *,
    language: str = "kk",
    source: str = "online",
    staff_override_window: bool = False,
    now: datetime | None = None,
) -> Registration:
    """Register for a ceremony; raises ValidationFailed, NotFound or Conflict
    (``ceremony_full``, ``registration_closed``, ``duplicate_registration``).

    On PostgreSQL the writes are one statement (:func:`_register_at_once`).
    Elsewhere (SQLite, in process: round trips cost little) they are three or
    four in one transaction: INSERT the registration (the partial unique
    indexes refuse a second active one with the same phone or e-mail), INSERT
    its audit event and its confirmation, and take the seats with one
    conditional UPDATE that also checks the ceremony is open — last, so the
    ceremony row is locked only until the commit.  Any refusal rolls back and
    is explained by reading the ceremony afterwards.
    """
    now = now or utcnow()
    clean = validation.parse_registration(data)
    try:
        ceremony_pk = int(ceremony_id)
    except (TypeError, ValueError):
        raise NotFound(_l("No such ceremony.")) from None
    if not 0 < ceremony_pk < 2**31:
        raise NotFound(_l("No such ceremony."))
    values = dict(
        ceremony_id=ceremony_pk,
        token=secrets.token_urlsafe(24),
        ticket_code=codes.new_code(),
        consent_at=now,
        language=language,
        status="confirmed",
        source=source,
        created_by_id=actor.user.id if actor.user else None,
        created_at=now,
        cancelled_at=None,
        **clean,
    )
    if session.get_bind().dialect.name == "postgresql":
        return _register_postgresql(session, actor, ceremony_pk, values, clean, staff_override_window, now)
    connection = session.connection()
    try:
        registration_id = connection.execute(_INSERT_REGISTRATION, values).scalar_one()
    except IntegrityError:
        # Same phone or e-mail already active here, or no such ceremony.
        session.rollback()
        raise _refusal(session, ceremony_pk, clean, staff_override_window, now, staff=source == "staff") from None
    record(
        session,
        actor,
        "registration.create",
        "registration",
        registration_id,
        after={"ceremony_id": ceremony_pk, "seats": clean["seats"], "status": "confirmed", "source": source},
    )
    if clean["email"]:
        # Before the seats, so that the ceremony row stays locked only for the
        # UPDATE and the commit; a refusal rolls the message back with the rest.
        messages.registration_confirmed(session, registration_id, now=now)  # ticket and calendar attached
    taken = connection.execute(
        _TAKE_SEATS[staff_override_window], {"ceremony_id": ceremony_pk, "seats": clean["seats"], "now": now}
    ).first()
    if taken is None:
        session.rollback()
        refusal = _refusal(session, ceremony_pk, clean, staff_override_window, now, staff=source == "staff")
        if refusal.code == "ceremony_full" and session.get_one(Ceremony, ceremony_pk).waitlist:
            return _join_waitlist(session, actor, ceremony_pk, values, now)
        raise refusal
    session.commit()
    REGISTRATIONS.labels("confirmed", source).inc()
    return Registration(id=registration_id, **values)


def _register_postgresql(
    session: DbSession,
    actor: Actor,
    ceremony_id: int,
    values: dict[str, Any],
    clean: dict[str, Any],
    staff_override_window: bool,
    now: datetime,
) -> Registration:
    with_mail = bool(clean["email"]) and not is_suppressed(session)
    statement = _register_at_once(tuple(values), staff_override_window, with_mail)
    event = event_values(
        actor,
        "registration.create",
        "registration",
        None,
        after={"ceremony_id": ceremony_id, "seats": clean["seats"], "status": "confirmed", "source": values["source"]},
    )
    params = {
        **{"r_" + name: value for name, value in values.items()},
        **{"audit_" + name: value for name, value in event.items()},
        "ceremony_id": ceremony_id,
        "seats": clean["seats"],
        "now": now,
    }
    if with_mail:
        params.update(messages.confirmation_values(now))
    # One statement is atomic on its own: when this transaction has done nothing
    # yet (the usual public request), it runs in autocommit -- no BEGIN, no
    # COMMIT, one round trip in all.  Otherwise it joins the transaction.
    begun = (session() if isinstance(session, scoped_session) else session).in_transaction()
    options = {} if begun else {"isolation_level": "AUTOCOMMIT"}
    try:
        made = session.connection(execution_options=options).execute(statement, params).first()
    except IntegrityError:  # the same phone or e-mail already active here
        made = None
    if made is None:
        session.rollback()
        refusal = _refusal(session, ceremony_id, clean, staff_override_window, now, staff=values["source"] == "staff")
        if refusal.code == "ceremony_full" and session.get_one(Ceremony, ceremony_id).waitlist:
            return _join_waitlist(session, actor, ceremony_id, values, now)
        raise refusal
    if made.message_id is not None:
        send_after_commit(session, [made.message_id])
    session.commit()
    REGISTRATIONS.labels("confirmed", values["source"]).inc()
    return Registration(id=made.id, **values)


def _join_waitlist(
    session: DbSession, actor: Actor, ceremony_id: int, values: dict[str, Any], now: datetime
) -> Registration:
    """A full ceremony with a waiting list: join its end (201, status
    ``waitlisted``).  Seats freed between the refusal and now are given out at
    once, this registration included if it is first in line and fits."""
    values = {**values, "status": "waitlisted", "waitlist_order": waitlist.next_order(ceremony_id)}
    try:
        registration_id = session.execute(
            insert(_registrations).values(values).returning(_registrations.c.id)
        ).scalar_one()
    except IntegrityError:  # the same phone or e-mail registered at this moment
        session.rollback()
        existing = _find_active_duplicate(session, ceremony_id, values["email"], values["phone"])
        if existing is not None:
            raise duplicate_error(existing, staff=values["source"] == "staff") from None
        raise
    record(
        session,
        actor,
        "registration.waitlist",
        "registration",
        registration_id,
        after={"ceremony_id": ceremony_id, "seats": values["seats"], "status": "waitlisted"},
    )
    promoted = waitlist.promote(session, actor, ceremony_id, now=now)
    registration = session.get_one(Registration, registration_id)
    if registration.email and registration not in promoted:  # the promoted are told by promote()
        position = waitlist.position(session, registration)
        assert position is not None  # waitlisted and not promoted: in line
        messages.registration_waitlisted(session, registration_id, position, now=now)
    session.commit()
    REGISTRATIONS.labels(registration.status, values["source"]).inc()  # waitlisted, or confirmed at once
    return registration


def registration_by_token(session: DbSession, token: str) -> Registration:
    if not token or len(token) > 64:
        raise NotFound(_l("This link is not valid. Check that it was copied completely."))
    registration = session.scalar(select(Registration).where(Registration.token == token))
    if registration is None:
        raise NotFound(_l("This link is not valid. Check that it was copied completely."))
    return registration


def cancel_registration(
    session: DbSession, actor: Actor, registration: Registration, reason: str | None = None, now: datetime | None = None
) -> Registration:
    now = now or utcnow()
    if registration.status == "cancelled":
        raise Conflict(_l("This registration was already cancelled."), code="already_cancelled")
    if now >= registration.ceremony.starts_at:
        raise Conflict(
            _l("The ceremony has already started; the registration can no longer be cancelled."),
            code="registration_closed",
        )
    registration_id, ceremony_id, previous = registration.id, registration.ceremony_id, registration.status
    result = session.execute(
        update(Registration)
        .where(Registration.id == registration_id, Registration.status == previous)
        .values(status="cancelled", cancelled_at=now, waitlist_order=None)
        .returning(Registration.seats)
    ).first()
    if result is None:
        session.rollback()
        raise Conflict(_l("This registration was already cancelled."), code="already_cancelled")
    record(
        session,
        actor,
        "registration.cancel",
        "registration",
        registration_id,
        before={"status": previous},
        after={"status": "cancelled"},
        reason=reason,
    )
    if registration.email:
        messages.registration_cancelled(session, registration_id, now=now)
    if previous == "confirmed":
        session.execute(
            update(Ceremony).where(Ceremony.id == ceremony_id).values(seats_taken=Ceremony.seats_taken - result.seats)
        )
        waitlist.promote(session, actor, ceremony_id, now=now)  # the freed seats to those waiting
    session.commit()
    CANCELLATIONS.labels("staff" if actor.user is not None else "attendee").inc()
    session.refresh(registration)
    return registration


# Arrived: checked in at the door (a filter beside the statuses).
ARRIVED = "arrived"
# A phone number as people write it: digits, spaces, brackets, +, - and dots.
_PHONE_QUERY = re.compile(r"[\d\s()+\-.]+")


def phone_digits(query: str) -> str | None:
    """The digits to look for in the stored phones (+7XXXXXXXXXX) when the
    query is a phone number written any usual way (8 701 010 00 11,
    +7 701 010-00-11, 87010100011) or its last digits (0011); None when it
    is not one (letters, or fewer than 3 digits)."""
    if not _PHONE_QUERY.fullmatch(query):
        return None
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) == 11 and digits[0] == "8":  # the trunk prefix: 8 701 ... is +7 701 ...
        digits = "7" + digits[1:]
    return digits if len(digits) >= 3 else None


def search_conditions(q: str) -> list[ColumnElement[bool]]:
    """Registrations matching ``q``: a phone however it is typed, a name in any
    spelling (every word of the query in the folded name: "Esenov" finds
    "Есенов", "Sarsenova" "Сәрсенова"), or a part of an e-mail address."""
    q = q.strip()
    conditions: list[ColumnElement[bool]] = []
    digits = phone_digits(q)
    if digits is not None:
        conditions.append(Registration.phone.contains(digits))
    words = search_key(q).split()
    if words and digits is None:
        conditions.append(and_(*[Registration.name_key.contains(word) for word in words]))
    if any(ch.isalpha() or ch == "@" for ch in q):
        conditions.append(Registration.email.contains(q.casefold(), autoescape=True))
    return conditions


def registrations_for(
    session: DbSession,
    ceremony: Ceremony,
    *,
    q: str | None = None,
    status: str | None = None,
    arrived: bool = False,
) -> Select[Registration]:
    """A ceremony's registrations, oldest first: of one status (``arrived``:
    those checked in at the door), matching the search ``q``."""
    stmt = select(Registration).where(Registration.ceremony_id == ceremony.id)
    if status == ARRIVED:
        status, arrived = None, True
    if status:
        stmt = stmt.where(Registration.status == status)
    if arrived:
        stmt = stmt.where(Registration.checked_in_at.is_not(None))
    if q and q.strip():
        conditions = search_conditions(q)
        stmt = stmt.where(or_(*conditions) if conditions else false())
    return stmt.order_by(Registration.created_at, Registration.id)
