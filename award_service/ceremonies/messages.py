"""The messages about registrations and ceremonies: when to send them (called
inside the change's transaction) and how to compose them (by the sender, at
each attempt), registered by kind with the mail registry.

Deciding adds outbox rows with one INSERT … SELECT on the caller's connection:
recipient, language and what was decided (``params``: a waiting-list position,
the changes made), no rendering.  Composing reads the rows as they are then, so
a ceremony moved between the decision and the sending is announced with its
new time; the ticket PDF and the calendar file are drawn then and not kept.
A ticket that cannot be drawn (a character no font has) does not stop the
message: it then links to the ticket instead.  Each deciding function returns
the outbox ids it added (``None`` / ``[]``: nobody to write to).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Insert, Integer, String, bindparam, cast, select

from ..codes import grouped
from ..i18n import in_language
from ..mail import ics, registry
from ..mail.models import OutboxMessage
from ..mail.outbox import enqueue, enqueue_from, first_id, id_of, insert_from, insert_values
from ..mail.registry import Composed
from ..mail.render import link, render
from ..mail.transport import Attachment, mail_domain, sender
from ..pdf import ticket_pdf
from ..timeutil import to_local, utcnow, zone
from .models import Ceremony, Registration
from .tickets import ticket_content

log = logging.getLogger(__name__)

# Fields of a ceremony whose change attendees are told about.
TITLE_FIELDS = ("title_kk", "title_ru", "title_en")
VENUE_FIELDS = ("venue", "venue_kk", "venue_ru", "venue_en")
ATTENDEE_FIELDS = (*TITLE_FIELDS, "starts_at", *VENUE_FIELDS, "address")
# A reminder is not worth sending this close to the start (a sweep that ran late).
REMINDER_TOO_LATE = timedelta(hours=2)


# ------------------------------------------------------------------ deciding (inside the change's transaction)


def _registrations(*conditions):
    """Recipients (for :func:`insert_from`): registrations with an e-mail."""
    r = Registration
    return (
        select(r.email, r.language, cast(r.id, String), Ceremony.district_id)
        .join(Ceremony, Ceremony.id == r.ceremony_id)
        .where(r.email.is_not(None), *conditions)
        .order_by(r.id)
    )


# Built once: the statements of every request that decides a message.
_TO_REGISTRATION = insert_from(_registrations(Registration.id == bindparam("registration_id", type_=Integer)))
_TO_CEREMONY = insert_from(
    _registrations(
        Registration.ceremony_id == bindparam("ceremony_id", type_=Integer), Registration.status != "cancelled"
    )
)


def _to_registration(session, kind: str, registration, now: datetime | None, params: dict | None = None):
    return first_id(
        enqueue_from(
            session,
            _TO_REGISTRATION,
            kind=kind,
            object_type="registration",
            params=params,
            now=now,
            registration_id=id_of(registration),
        )
    )


def registration_confirmed(session, registration, *, now: datetime | None = None) -> int | None:
    """Registered with a seat: the ticket PDF and a calendar file attached."""
    return _to_registration(session, "registration_confirmed", registration, now)


def confirmation_from(registrations: Any, ceremonies: Any) -> Insert:
    """The confirmation of a registration made in the same statement:
    ``registrations`` is a data-modifying CTE whose RETURNING has the
    registration's id, ceremony_id, email and language, ``ceremonies`` one
    with its ceremony's id and district_id.  An INSERT … SELECT that adds the
    message only for a registration with an e-mail (RETURNING its id), run
    with :func:`confirmation_values`."""
    r, c = registrations.c, ceremonies.c
    return insert_from(
        select(r.email, r.language, cast(r.id, String), c.district_id)
        .select_from(registrations.join(ceremonies, c.id == r.ceremony_id))
        .where(r.email.is_not(None))
    )


def confirmation_values(now: datetime | None = None) -> dict[str, Any]:
    """The bind values of :func:`confirmation_from` (a kind registered below)."""
    return insert_values("registration_confirmed", "registration", now=now)


def registration_waitlisted(session, registration, position: int, *, now: datetime | None = None) -> int | None:
    """On the waiting list, at ``position`` (1 = next to get a seat)."""
    return _to_registration(session, "registration_waitlisted", registration, now, {"position": int(position)})


def registration_promoted(session, registration, *, now: datetime | None = None) -> int | None:
    """Moved from the waiting list to a seat: like a confirmation, ticket and calendar file attached."""
    return _to_registration(session, "registration_promoted", registration, now)


def registration_cancelled(session, registration, *, now: datetime | None = None) -> int | None:
    """Cancelled (by the attendee or an organiser); a confirmed one's calendar event is withdrawn."""
    return _to_registration(session, "registration_cancelled", registration, now)


def registration_links(
    session, registrations: Sequence, to_address: str, language: str, *, dedupe_key: str, now: datetime | None = None
) -> int | None:
    """The manage links of ``registrations`` (all made with ``to_address``),
    asked for again; None when ``dedupe_key`` was used already."""
    first = registrations[0]
    return enqueue(
        session,
        kind="registration_links",
        to_address=to_address,
        language=language,
        params={"registrations": [r.id for r in registrations]},
        dedupe_key=dedupe_key,
        object_type="registration",
        object_id=first.id,
        district_id=first.ceremony.district_id,
        now=now,
    )


def ceremony_changed(session, ceremony, changes: dict, *, now: datetime | None = None) -> list[int]:
    """The ceremony's name, time or place changed: every active registration with
    an e-mail is told (confirmed ones get an updated calendar file).

    ``changes`` maps a field of :meth:`Ceremony.snapshot` to its new value, or to
    ``(old, new)`` -- e.g. the second dict of ``audit.diff(before, after)``, or
    ``{k: (b[k], a[k])}``.  Only the titles, ``starts_at``, the venues and
    ``address`` concern attendees; a change of anything else
    (capacity, dates of registration…) sends nothing."""
    relevant = {k: v for k, v in changes.items() if k in ATTENDEE_FIELDS}
    if not relevant:
        return []
    normalised = {}
    for key, value in relevant.items():
        old, new = value if isinstance(value, (tuple, list)) and len(value) == 2 else (None, value)
        normalised[key] = {"old": old, "new": new}
    return enqueue_from(
        session,
        _TO_CEREMONY,
        kind="ceremony_changed",
        object_type="registration",
        params={"changes": normalised},
        now=now,
        ceremony_id=id_of(ceremony),
    )


def ceremony_cancelled(session, ceremony, *, now: datetime | None = None) -> list[int]:
    """The ceremony is cancelled: every active registration with an e-mail is
    told (confirmed ones get a calendar file that withdraws the event)."""
    return enqueue_from(
        session,
        _TO_CEREMONY,
        kind="ceremony_cancelled",
        object_type="registration",
        now=now,
        ceremony_id=id_of(ceremony),
    )


def reminder_key(registration_id: int, starts_at: datetime) -> str:
    """One reminder per registration and start time: a ceremony moved to another
    day reminds again for the new day."""
    return f"ceremony_reminder:{registration_id}:{ics.utc_stamp(starts_at)}"


def reminder_time(starts_at: datetime, config) -> datetime:
    """When a ceremony's reminder is due: the day before, in the deployment's
    time zone, at AWARD_MAIL_REMINDER_HOUR (10:00 by default)."""
    tz = config["AWARD_TIMEZONE"]
    day_before = to_local(starts_at, tz).date() - timedelta(days=1)
    hour = int(config["AWARD_MAIL_REMINDER_HOUR"])
    return datetime(day_before.year, day_before.month, day_before.day, hour, tzinfo=zone(tz))


def enqueue_reminders(session, now: datetime | None = None) -> int:
    """Remind every confirmed registration with an e-mail the day before its
    ceremony: due from AWARD_MAIL_REMINDER_HOUR local time on the previous day
    (so an hourly run sends them then), and still sent by a run that comes
    later, up to two hours before the start.  Once per registration and start
    time (the outbox's unique dedupe key; two runs at once insert one row).  A
    registration made after its reminder was due is not reminded: its
    confirmation is a few hours old.  The caller commits.  Returns how many
    reminders were added."""
    now = now or utcnow()
    config = current_app.config
    # Every ceremony whose reminder can be due now starts within the next two days.
    candidates = session.execute(
        select(
            Registration.id,
            Registration.email,
            Registration.language,
            Registration.created_at,
            Ceremony.starts_at,
            Ceremony.district_id,
        )
        .join(Ceremony, Ceremony.id == Registration.ceremony_id)
        .where(
            Registration.status == "confirmed",
            Registration.email.is_not(None),
            Ceremony.status.in_(("published", "closed")),
            Ceremony.starts_at > now + REMINDER_TOO_LATE,
            Ceremony.starts_at <= now + timedelta(days=2, hours=1),
        )
        .order_by(Registration.id)
    ).all()
    due = {}
    for row in candidates:
        remind_at = reminder_time(row.starts_at, config)
        if remind_at <= now and row.created_at < remind_at:
            due[reminder_key(row.id, row.starts_at)] = row
    if not due:
        return 0
    taken = set()
    keys = list(due)
    for i in range(0, len(keys), 500):
        taken.update(
            session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys[i : i + 500])))
        )
    added = 0
    for key, row in due.items():
        if key in taken:
            continue
        if (
            enqueue(
                session,
                kind="ceremony_reminder",
                to_address=row.email,
                language=row.language,
                dedupe_key=key,
                object_type="registration",
                object_id=row.id,
                district_id=row.district_id,
                now=now,
            )
            is not None
        ):
            added += 1
    return added


# ------------------------------------------------------------------ composing (by the sender)


def _registration_context(registration: Registration, language: str) -> dict:
    ceremony = registration.ceremony
    manage = f"/r/{registration.token}"
    return {
        "name": registration.full_name,
        "title": ceremony.title(language),
        "when": ceremony.starts_at,
        "venue": ceremony.venue_in(language),
        "address": ceremony.address or "",
        "seats": registration.seats,
        "ticket_code": grouped(registration.ticket_code),
        "manage_link": link(manage, language),
        "ticket_link": link(f"{manage}/ticket.pdf", language),
        "ceremony_link": link(f"/ceremonies/{ceremony.id}", language),
    }


def _ticket(registration: Registration) -> Attachment | None:
    try:
        data = ticket_pdf(ticket_content(registration))
    except Exception:
        log.exception("ticket PDF for registration %s could not be drawn; the e-mail links to it", registration.id)
        return None
    return Attachment(f"ticket-{registration.id}.pdf", "application/pdf", data)


def calendar_event(registration: Registration, language: str, now: datetime, *, cancelled: bool = False) -> Attachment:
    ceremony = registration.ceremony
    manage = link(f"/r/{registration.token}", language)
    organizer = sender(current_app.config)
    name, address = parseaddr(organizer)
    data = ics.event(
        uid=f"registration-{registration.id}@{mail_domain(current_app.config)}",
        starts_at=ceremony.starts_at,
        summary=ceremony.title(language),
        location=ceremony.place(language),
        description=manage,
        url=manage,
        organizer_name=name or ceremony.title(language),
        organizer_email=address,
        now=now,
        cancelled=cancelled,
    )
    return Attachment("ceremony.ics", "text/calendar; charset=utf-8; method=PUBLISH", data)


def _compose_for_registration(
    kind: str,
    registration: Registration,
    language: str,
    now: datetime,
    *,
    ticket: bool = False,
    calendar: str | None = None,
    **extra,
) -> Composed:
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
    return Composed(rendered.subject, rendered.text, rendered.html, attachments)


# The composers: ``subject`` is the registration (the name mail.registry.Composer gives it).


def _seat(session, message, subject, language, params, now) -> Composed:
    """Confirmation, promotion: the ticket and the calendar file."""
    return _compose_for_registration(message.kind, subject, language, now, ticket=True, calendar="publish")


def _waitlisted(session, message, subject, language, params, now) -> Composed:
    return _compose_for_registration(message.kind, subject, language, now, position=int(params["position"]))


def _cancelled(session, message, subject, language, params, now) -> Composed:
    # Withdraw the calendar event only from those we sent one to.
    had_event = (
        session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.object_type == "registration",
                OutboxMessage.object_id == str(subject.id),
                OutboxMessage.kind.in_(("registration_confirmed", "registration_promoted")),
                OutboxMessage.id < message.id,
            )
            .limit(1)
        )
        is not None
    )
    return _compose_for_registration(message.kind, subject, language, now, calendar="cancel" if had_event else None)


def _as_datetime(value):
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _changed(session, message, subject, language, params, now) -> Composed:
    changes = dict(params["changes"])
    if "starts_at" in changes:
        changes["starts_at"] = {k: _as_datetime(v) for k, v in changes["starts_at"].items()}
    ceremony = subject.ceremony
    # The name and the place as this reader sees them (their language, by the
    # one rule): a change only to another language's venue is not news to them.
    for shown, fields, now_shown in (
        ("title", TITLE_FIELDS, ceremony.title(language)),
        ("venue", VENUE_FIELDS, ceremony.venue_in(language)),
    ):
        if not any(k in changes for k in fields):
            continue
        before = {k: changes[k]["old"] if k in changes else getattr(ceremony, k) for k in fields}
        was = in_language({code: before.get(f"{shown}_{code}") or "" for code in ("kk", "ru", "en")}, language)
        was = was or before.get("venue") or ""
        changes.pop(shown, None)
        if was != now_shown:
            changes[shown] = {"old": was, "new": now_shown}
    confirmed = subject.status == "confirmed"
    return _compose_for_registration(
        message.kind,
        subject,
        language,
        now,
        calendar="publish" if confirmed else None,
        changes=changes,
        confirmed=confirmed,
    )


def _ceremony_cancelled(session, message, subject, language, params, now) -> Composed:
    return _compose_for_registration(
        message.kind, subject, language, now, calendar="cancel" if subject.status == "confirmed" else None
    )


def _reminder(session, message, subject, language, params, now) -> Composed:
    return _compose_for_registration(message.kind, subject, language, now)


def _links(session, message, subject, language, params, now) -> Composed:
    """The links asked for again: every registration still active, as it is now."""
    found = [session.get(Registration, int(i)) for i in params.get("registrations", [])]
    items = [
        {
            "title": r.ceremony.title(language),
            "when": r.ceremony.starts_at,
            "status": r.status,
            "manage_link": link(f"/r/{r.token}", language),
        }
        for r in found
        if r is not None and r.status != "cancelled"
    ]
    rendered = render(message.kind, language, name=subject.full_name, registrations=items)
    return Composed(rendered.subject, rendered.text, rendered.html)


def _load_registration(session, object_id: str) -> Registration | None:
    return session.get(Registration, int(object_id))


_KINDS = (
    ("registration_confirmed", _l("Registration confirmed"), _seat),
    ("registration_waitlisted", _l("Put on the waiting list"), _waitlisted),
    ("registration_promoted", _l("Seat from the waiting list"), _seat),
    ("registration_cancelled", _l("Registration cancelled"), _cancelled),
    ("ceremony_changed", _l("Ceremony changed"), _changed),
    ("ceremony_cancelled", _l("Ceremony cancelled"), _ceremony_cancelled),
    ("ceremony_reminder", _l("Reminder the day before"), _reminder),
    ("registration_links", _l("Manage links sent again"), _links),
)
for _name, _label, _composer in _KINDS:
    registry.register(_name, label=_label, object_type="registration", load=_load_registration, compose=_composer)
registry.register_job("reminders", enqueue_reminders)
