"""The messages the service sends: one function per kind.

Call each INSIDE the transaction of the change, before its commit: it reads
what it needs in that transaction, renders the message in the recipient's
language and adds it to the outbox (INSERTs on the caller's connection, nothing
else).  It is sent after the commit; a rollback discards it.  Each returns the
outbox ids it added (``None`` / ``[]``: nobody to write to, e.g. a
registration with a phone number only).

The ticket PDF and the calendar file are rendered here, at enqueue time, so
the message sent is exactly the one decided (about 3 ms and 130 KB for a
ticket).  A ticket that cannot be drawn (a character no font has) does not stop
the change: the message then links to the ticket instead.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..accounts.models import User
from ..ceremonies.models import Ceremony, Registration
from ..codes import grouped
from ..nominations.models import Nomination
from ..timeutil import utcnow
from . import ics
from .models import OutboxMessage
from .outbox import Attachment, enqueue
from .render import language_of, render
from .transport import mail_domain, sender

log = logging.getLogger(__name__)

REMINDER_WINDOW = (timedelta(hours=24), timedelta(hours=48))
# Fields of a ceremony whose change attendees are told about.
ATTENDEE_FIELDS = ("title_kk", "title_ru", "starts_at", "venue", "address")
NOMINATION_ACTIONS = {"return": "returned", "returned": "returned", "approve": "approved",
                      "approved": "approved", "reject": "rejected", "rejected": "rejected"}
QUIET_NOMINATION_ACTIONS = frozenset({"submit", "submitted", "recommend", "recommended", "withdraw", "withdrawn",
                                      "award", "awarded", "create", "update"})


# ------------------------------------------------------------------ helpers

def _registration(session, registration) -> Registration:
    """The registration as the transaction sees it now (services change rows with
    plain UPDATEs, and ``register`` returns an object that is not in the session)."""
    registration_id = registration if isinstance(registration, int) else registration.id
    return session.execute(select(Registration).where(Registration.id == registration_id)
                           .execution_options(populate_existing=True)).scalar_one()


def _base() -> str:
    return current_app.config["AWARD_BASE_URL"]


def _registration_context(registration: Registration, language: str) -> dict:
    ceremony = registration.ceremony
    manage = f"{_base()}/r/{registration.token}"
    return dict(name=registration.full_name, title=ceremony.title(language), when=ceremony.starts_at,
                venue=ceremony.venue, address=ceremony.address or "", seats=registration.seats,
                ticket_code=grouped(registration.ticket_code), manage_link=manage,
                ticket_link=f"{manage}/ticket.pdf", ceremony_link=f"{_base()}/ceremonies/{ceremony.id}")


def _ticket(registration: Registration) -> Attachment | None:
    from ..awards.pdf import ticket_pdf
    from ..ceremonies.tickets import ticket_content

    try:
        data = ticket_pdf(ticket_content(registration))
    except Exception:
        log.exception("ticket PDF for registration %s could not be drawn; the e-mail links to it", registration.id)
        return None
    return Attachment(f"ticket-{registration.id}.pdf", "application/pdf", data)


def calendar_event(registration: Registration, language: str, now: datetime, *, cancelled: bool = False) -> Attachment:
    ceremony = registration.ceremony
    manage = f"{_base()}/r/{registration.token}"
    organizer = sender(current_app.config)
    from email.utils import parseaddr

    name, address = parseaddr(organizer)
    data = ics.event(
        uid=f"registration-{registration.id}@{mail_domain(current_app.config)}",
        starts_at=ceremony.starts_at, summary=ceremony.title(language),
        location=", ".join(part for part in (ceremony.venue, ceremony.address) if part),
        description=manage, url=manage, organizer_name=name or ceremony.title(language),
        organizer_email=address, now=now, cancelled=cancelled)
    return Attachment("ceremony.ics", "text/calendar; charset=utf-8; method=PUBLISH", data)


def _to_registration(session, kind: str, registration: Registration, *, now: datetime, ticket: bool = False,
                     calendar: str | None = None, dedupe_key: str | None = None, **extra) -> int | None:
    if not registration.email:
        return None
    language = language_of(registration.language)
    context = _registration_context(registration, language)
    attachments = []
    if ticket:
        pdf = _ticket(registration)
        if pdf is not None:
            attachments.append(pdf)
        context["ticket_attached"] = pdf is not None
    if calendar:
        attachments.append(calendar_event(registration, language, now, cancelled=calendar == "cancel"))
    context["calendar_attached"] = bool(calendar)
    context.update(extra)
    rendered = render(kind, language, **context)
    return enqueue(session, kind=kind, to_address=registration.email, language=language,
                   subject=rendered.subject, body_text=rendered.text, body_html=rendered.html,
                   attachments=attachments, dedupe_key=dedupe_key, object_type="registration",
                   object_id=registration.id, district_id=registration.ceremony.district_id, now=now)


# ------------------------------------------------------------------ registrations

def registration_confirmed(session, registration, *, now: datetime | None = None) -> int | None:
    """Registered with a seat: the ticket PDF and a calendar file attached."""
    registration = _registration(session, registration)
    return _to_registration(session, "registration_confirmed", registration, now=now or utcnow(), ticket=True,
                            calendar="publish")


def registration_waitlisted(session, registration, position: int, *, now: datetime | None = None) -> int | None:
    """On the waiting list, at ``position`` (1 = next to get a seat)."""
    registration = _registration(session, registration)
    return _to_registration(session, "registration_waitlisted", registration, now=now or utcnow(),
                            position=int(position))


def registration_promoted(session, registration, *, now: datetime | None = None) -> int | None:
    """Moved from the waiting list to a seat: like a confirmation, ticket and calendar file attached."""
    registration = _registration(session, registration)
    return _to_registration(session, "registration_promoted", registration, now=now or utcnow(), ticket=True,
                            calendar="publish")


def registration_cancelled(session, registration, *, now: datetime | None = None) -> int | None:
    """Cancelled (by the attendee or an organiser); a confirmed one's calendar event is withdrawn."""
    registration = _registration(session, registration)
    # Withdraw the calendar event only from those we sent one to.
    had_event = session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.object_type == "registration", OutboxMessage.object_id == str(registration.id),
        OutboxMessage.kind.in_(("registration_confirmed", "registration_promoted"))).limit(1)) is not None
    return _to_registration(session, "registration_cancelled", registration, now=now or utcnow(),
                            calendar="cancel" if had_event else None)


# ------------------------------------------------------------------ ceremonies

def _recipients(session, ceremony_id: int) -> list[Registration]:
    return list(session.scalars(
        select(Registration).where(Registration.ceremony_id == ceremony_id, Registration.status != "cancelled",
                                   Registration.email.is_not(None))
        .order_by(Registration.id).execution_options(populate_existing=True)))


def _as_datetime(value):
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def ceremony_changed(session, ceremony, changes: dict, *, now: datetime | None = None) -> list[int]:
    """The ceremony's name, time or place changed: every active registration with
    an e-mail is told (confirmed ones get an updated calendar file).

    ``changes`` maps a field of :meth:`Ceremony.snapshot` to its new value, or to
    ``(old, new)`` -- e.g. the second dict of ``audit.diff(before, after)``, or
    ``{k: (b[k], a[k])}``.  Only ``title_kk``, ``title_ru``, ``starts_at``,
    ``venue`` and ``address`` concern attendees; a change of anything else
    (capacity, dates of registration…) sends nothing."""
    now = now or utcnow()
    relevant = {k: v for k, v in changes.items() if k in ATTENDEE_FIELDS}
    if not relevant:
        return []
    ceremony_id = ceremony if isinstance(ceremony, int) else ceremony.id
    session.execute(select(Ceremony).where(Ceremony.id == ceremony_id)
                    .execution_options(populate_existing=True)).scalar_one()
    normalised = {}
    for key, value in relevant.items():
        old, new = value if isinstance(value, (tuple, list)) and len(value) == 2 else (None, value)
        normalised[key] = {"old": old, "new": new}
    if "starts_at" in normalised:
        normalised["starts_at"] = {k: _as_datetime(v) for k, v in normalised["starts_at"].items()}
    ids = []
    for registration in _recipients(session, ceremony_id):
        language = language_of(registration.language)
        changes_here = dict(normalised)
        if "title_kk" in changes_here or "title_ru" in changes_here:
            changes_here["title"] = {"old": None, "new": registration.ceremony.title(language)}
        confirmed = registration.status == "confirmed"
        message_id = _to_registration(session, "ceremony_changed", registration, now=now,
                                      calendar="publish" if confirmed else None, changes=changes_here,
                                      confirmed=confirmed)
        if message_id is not None:
            ids.append(message_id)
    return ids


def ceremony_cancelled(session, ceremony, *, now: datetime | None = None) -> list[int]:
    """The ceremony is cancelled: every active registration with an e-mail is
    told (confirmed ones get a calendar file that withdraws the event)."""
    now = now or utcnow()
    ceremony_id = ceremony if isinstance(ceremony, int) else ceremony.id
    ids = []
    for registration in _recipients(session, ceremony_id):
        message_id = _to_registration(session, "ceremony_cancelled", registration, now=now,
                                      calendar="cancel" if registration.status == "confirmed" else None)
        if message_id is not None:
            ids.append(message_id)
    return ids


def reminder_key(registration: Registration) -> str:
    """One reminder per registration and start time: a ceremony moved to another
    day reminds again for the new day."""
    return f"ceremony_reminder:{registration.id}:{ics.utc_stamp(registration.ceremony.starts_at)}"


def enqueue_reminders(session, now: datetime | None = None, *, window=REMINDER_WINDOW) -> int:
    """Remind every confirmed registration with an e-mail whose ceremony starts
    between 24 and 48 hours from ``now``, once (the outbox's unique dedupe key;
    two runs at once insert one row).  The caller commits.  Returns how many
    reminders were added."""
    now = now or utcnow()
    candidates = list(session.scalars(
        select(Registration).join(Registration.ceremony)
        .where(Registration.status == "confirmed", Registration.email.is_not(None),
               Ceremony.status.in_(("published", "closed")),
               Ceremony.starts_at >= now + window[0], Ceremony.starts_at < now + window[1])
        .order_by(Registration.id)))
    if not candidates:
        return 0
    keys = {reminder_key(r): r for r in candidates}
    taken = set()
    key_list = list(keys)
    for i in range(0, len(key_list), 500):
        taken.update(session.scalars(select(OutboxMessage.dedupe_key)
                                     .where(OutboxMessage.dedupe_key.in_(key_list[i:i + 500]))))
    added = 0
    for key, registration in keys.items():
        if key in taken:
            continue
        if _to_registration(session, "ceremony_reminder", registration, now=now, dedupe_key=key) is not None:
            added += 1
    return added


# ------------------------------------------------------------------ nominations

def nomination_status_changed(session, nomination, action: str, *, now: datetime | None = None) -> int | None:
    """Tell the nominator who entered the nomination that it was returned,
    approved (with the decree) or rejected (with the reason).  ``action`` is the
    workflow action (``return``, ``approve``, ``reject``) or the state it led to
    (``returned``, ``approved``, ``rejected``); the other steps send nothing."""
    if action in QUIET_NOMINATION_ACTIONS:
        return None
    if action not in NOMINATION_ACTIONS:
        raise ValueError(f"unknown nomination action {action!r}")
    from ..nominations.service import STATUS_LABELS

    status = NOMINATION_ACTIONS[action]
    nomination_id = nomination if isinstance(nomination, int) else nomination.id
    row = session.execute(select(Nomination).where(Nomination.id == nomination_id)
                          .execution_options(populate_existing=True)).scalar_one()
    user = session.get(User, row.created_by_id) if row.created_by_id else None
    if user is None or not user.active or not user.email:
        return None
    language = language_of(user.language)
    rendered = render("nomination_status_changed", language, name=user.name, nomination_id=row.id,
                      nominee=row.nominee.full_name, medal=row.medal.name(language), status=status,
                      status_label=STATUS_LABELS[status], comment=row.last_comment or "",
                      decree_number=row.decree_number, decree_date=row.decree_date,
                      link=f"{_base()}/staff/nominations/{row.id}")
    return enqueue(session, kind="nomination_status_changed", to_address=user.email, language=language,
                   subject=rendered.subject, body_text=rendered.text, body_html=rendered.html,
                   object_type="nomination", object_id=row.id, district_id=row.district_id, now=now)
