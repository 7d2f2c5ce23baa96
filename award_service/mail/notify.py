"""The messages the service sends: one function per kind to decide a message,
and one to compose it.

The deciding functions are called INSIDE the transaction of the change, before
its commit.  Each adds rows to the outbox with one INSERT (… SELECT) on the
caller's connection: the recipient, their language, what the message is about
and what was decided (``params``: a waiting-list position, the changes made, a
nomination's new state and the reason given) -- no rendering, so a request
pays one statement for an e-mail.  It is sent after the commit; a rollback
discards it.  Each returns the outbox ids it added (``None`` / ``[]``: nobody
to write to, e.g. a registration with a phone number only).

The sender calls :func:`compose` at each attempt: the subject, text, HTML and
attachments (the ticket PDF, the calendar file) in the recipient's language,
from the rows as they are then and the params as they were decided.  A
ceremony moved between the decision and the sending is therefore announced
with its new time.  The text sent is kept in the row; the attachments are not.
A ticket that cannot be drawn (a character no font has) does not stop the
message: it then links to the ticket instead.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Integer, String, bindparam, cast, select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..ceremonies.models import Ceremony, Registration
from ..codes import grouped
from ..nominations.models import Nomination
from ..timeutil import to_local, utcnow, zone
from . import ics
from .models import OutboxMessage
from .outbox import Attachment, enqueue, enqueue_from, insert_from, load_params
from .render import language_of, render
from .transport import mail_domain, sender

log = logging.getLogger(__name__)

# Fields of a ceremony whose change attendees are told about.
ATTENDEE_FIELDS = ("title_kk", "title_ru", "starts_at", "venue", "address")
NOMINATION_ACTIONS = {"return": "returned", "returned": "returned", "approve": "approved",
                      "approved": "approved", "reject": "rejected", "rejected": "rejected"}
QUIET_NOMINATION_ACTIONS = frozenset({"submit", "submitted", "recommend", "recommended", "withdraw", "withdrawn",
                                      "award", "awarded", "create", "update"})
# A reminder is not worth sending this close to the start (a sweep that ran late).
REMINDER_TOO_LATE = timedelta(hours=2)


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str
    attachments: list[Attachment] = field(default_factory=list)


# ------------------------------------------------------------------ deciding (inside the change's transaction)

def _id(row_or_id) -> int:
    return row_or_id if isinstance(row_or_id, int) else row_or_id.id


def _registrations(*conditions):
    """Recipients (for :func:`insert_from`): registrations with an e-mail."""
    r = Registration
    return (select(r.email, r.language, cast(r.id, String), Ceremony.district_id)
            .join(Ceremony, Ceremony.id == r.ceremony_id)
            .where(r.email.is_not(None), *conditions).order_by(r.id))


# Built once: the statements of every request that decides a message.
_TO_REGISTRATION = insert_from(_registrations(Registration.id == bindparam("registration_id", type_=Integer)))
_TO_CEREMONY = insert_from(_registrations(Registration.ceremony_id == bindparam("ceremony_id", type_=Integer),
                                          Registration.status != "cancelled"))
_TO_NOMINATOR = insert_from(
    select(User.email, User.language, cast(Nomination.id, String), Nomination.district_id)
    .join(User, User.id == Nomination.created_by_id)
    .where(Nomination.id == bindparam("nomination_id", type_=Integer), User.active.is_(True),
           User.email.is_not(None), User.email != ""))
_TO_USER = insert_from(
    select(User.email, User.language, bindparam("object_id", type_=String), bindparam("district_id", type_=Integer))
    .where(User.id == bindparam("user_id", type_=Integer), User.active.is_(True), User.email.is_not(None),
           User.email != ""))


def _one(ids: list[int]) -> int | None:
    return ids[0] if ids else None


def _to_registration(session, kind: str, registration, now: datetime | None, params: dict | None = None):
    return _one(enqueue_from(session, _TO_REGISTRATION, kind=kind, object_type="registration", params=params,
                             now=now, registration_id=_id(registration)))


def registration_confirmed(session, registration, *, now: datetime | None = None) -> int | None:
    """Registered with a seat: the ticket PDF and a calendar file attached."""
    return _to_registration(session, "registration_confirmed", registration, now)


def registration_waitlisted(session, registration, position: int, *, now: datetime | None = None) -> int | None:
    """On the waiting list, at ``position`` (1 = next to get a seat)."""
    return _to_registration(session, "registration_waitlisted", registration, now, {"position": int(position)})


def registration_promoted(session, registration, *, now: datetime | None = None) -> int | None:
    """Moved from the waiting list to a seat: like a confirmation, ticket and calendar file attached."""
    return _to_registration(session, "registration_promoted", registration, now)


def registration_cancelled(session, registration, *, now: datetime | None = None) -> int | None:
    """Cancelled (by the attendee or an organiser); a confirmed one's calendar event is withdrawn."""
    return _to_registration(session, "registration_cancelled", registration, now)


def ceremony_changed(session, ceremony, changes: dict, *, now: datetime | None = None) -> list[int]:
    """The ceremony's name, time or place changed: every active registration with
    an e-mail is told (confirmed ones get an updated calendar file).

    ``changes`` maps a field of :meth:`Ceremony.snapshot` to its new value, or to
    ``(old, new)`` -- e.g. the second dict of ``audit.diff(before, after)``, or
    ``{k: (b[k], a[k])}``.  Only ``title_kk``, ``title_ru``, ``starts_at``,
    ``venue`` and ``address`` concern attendees; a change of anything else
    (capacity, dates of registration…) sends nothing."""
    relevant = {k: v for k, v in changes.items() if k in ATTENDEE_FIELDS}
    if not relevant:
        return []
    normalised = {}
    for key, value in relevant.items():
        old, new = value if isinstance(value, (tuple, list)) and len(value) == 2 else (None, value)
        normalised[key] = {"old": old, "new": new}
    return enqueue_from(session, _TO_CEREMONY, kind="ceremony_changed", object_type="registration",
                        params={"changes": normalised}, now=now, ceremony_id=_id(ceremony))


def ceremony_cancelled(session, ceremony, *, now: datetime | None = None) -> list[int]:
    """The ceremony is cancelled: every active registration with an e-mail is
    told (confirmed ones get a calendar file that withdraws the event)."""
    return enqueue_from(session, _TO_CEREMONY, kind="ceremony_cancelled", object_type="registration", now=now,
                        ceremony_id=_id(ceremony))


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
        select(Registration.id, Registration.email, Registration.language, Registration.created_at,
               Ceremony.starts_at, Ceremony.district_id)
        .join(Ceremony, Ceremony.id == Registration.ceremony_id)
        .where(Registration.status == "confirmed", Registration.email.is_not(None),
               Ceremony.status.in_(("published", "closed")),
               Ceremony.starts_at > now + REMINDER_TOO_LATE, Ceremony.starts_at <= now + timedelta(days=2, hours=1))
        .order_by(Registration.id)).all()
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
        taken.update(session.scalars(select(OutboxMessage.dedupe_key)
                                     .where(OutboxMessage.dedupe_key.in_(keys[i:i + 500]))))
    added = 0
    for key, row in due.items():
        if key in taken:
            continue
        if enqueue(session, kind="ceremony_reminder", to_address=row.email, language=row.language,
                   dedupe_key=key, object_type="registration", object_id=row.id, district_id=row.district_id,
                   now=now) is not None:
            added += 1
    return added


def nomination_status_changed(session, nomination, action: str, *, comment: str | None = None,
                              now: datetime | None = None) -> int | None:
    """Tell the nominator who entered the nomination that it was returned,
    approved (with the decree) or rejected, with ``comment`` (the reason; by
    default the nomination's last comment when the message is composed).
    ``action`` is the workflow action (``return``, ``approve``, ``reject``) or
    the state it led to (``returned``, ``approved``, ``rejected``); the other
    steps send nothing."""
    if action in QUIET_NOMINATION_ACTIONS:
        return None
    if action not in NOMINATION_ACTIONS:
        raise ValueError(f"unknown nomination action {action!r}")
    params = {"status": NOMINATION_ACTIONS[action]}
    if comment is not None:
        params["comment"] = comment
    return _one(enqueue_from(session, _TO_NOMINATOR, kind="nomination_status_changed", object_type="nomination",
                             params=params, now=now, nomination_id=_id(nomination)))


def nominations_decided(session, nominations, action: str, *, comment: str | None = None,
                        now: datetime | None = None) -> list[int]:
    """A decision on many nominations at once (a decree's list, a bulk return):
    one message per nominator, listing theirs -- not one per nomination.  A
    nominator with one nomination in the list gets the ordinary message."""
    if action in QUIET_NOMINATION_ACTIONS:
        return []
    if action not in NOMINATION_ACTIONS:
        raise ValueError(f"unknown nomination action {action!r}")
    by_nominator: dict[int, list[Nomination]] = {}
    for nomination in nominations:
        if nomination.created_by_id is not None:
            by_nominator.setdefault(nomination.created_by_id, []).append(nomination)
    ids = []
    for user_id, theirs in sorted(by_nominator.items()):
        theirs.sort(key=lambda n: n.id)
        if len(theirs) == 1:
            one = nomination_status_changed(session, theirs[0].id, action, comment=comment, now=now)
            ids.extend([one] if one is not None else [])
            continue
        districts = {n.district_id for n in theirs}
        district_id = districts.pop() if len(districts) == 1 else None  # several: region-wide organisers see it
        params = {"status": NOMINATION_ACTIONS[action], "nominations": [n.id for n in theirs]}
        if comment is not None:
            params["comment"] = comment
        ids.extend(enqueue_from(session, _TO_USER, kind="nominations_decided", object_type="nomination",
                                params=params, now=now, user_id=user_id, object_id=str(theirs[0].id),
                                district_id=district_id))
    return ids


# ------------------------------------------------------------------ composing (by the sender)

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


def _compose_for_registration(kind: str, registration: Registration, language: str, now: datetime, *,
                              ticket: bool = False, calendar: str | None = None, **extra) -> Composed:
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


def _seat(session, message, registration, language, params, now) -> Composed:
    """Confirmation, promotion: the ticket and the calendar file."""
    return _compose_for_registration(message.kind, registration, language, now, ticket=True, calendar="publish")


def _waitlisted(session, message, registration, language, params, now) -> Composed:
    return _compose_for_registration(message.kind, registration, language, now, position=int(params["position"]))


def _cancelled(session, message, registration, language, params, now) -> Composed:
    # Withdraw the calendar event only from those we sent one to.
    had_event = session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.object_type == "registration", OutboxMessage.object_id == str(registration.id),
        OutboxMessage.kind.in_(("registration_confirmed", "registration_promoted")),
        OutboxMessage.id < message.id).limit(1)) is not None
    return _compose_for_registration(message.kind, registration, language, now,
                                     calendar="cancel" if had_event else None)


def _as_datetime(value):
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _changed(session, message, registration, language, params, now) -> Composed:
    changes = dict(params["changes"])
    if "starts_at" in changes:
        changes["starts_at"] = {k: _as_datetime(v) for k, v in changes["starts_at"].items()}
    if "title_kk" in changes or "title_ru" in changes:
        changes["title"] = {"old": None, "new": registration.ceremony.title(language)}
    confirmed = registration.status == "confirmed"
    return _compose_for_registration(message.kind, registration, language, now,
                                     calendar="publish" if confirmed else None, changes=changes,
                                     confirmed=confirmed)


def _ceremony_cancelled(session, message, registration, language, params, now) -> Composed:
    return _compose_for_registration(message.kind, registration, language, now,
                                     calendar="cancel" if registration.status == "confirmed" else None)


def _reminder(session, message, registration, language, params, now) -> Composed:
    return _compose_for_registration(message.kind, registration, language, now)


_REGISTRATION_COMPOSERS = {
    "registration_confirmed": _seat,
    "registration_promoted": _seat,
    "registration_waitlisted": _waitlisted,
    "registration_cancelled": _cancelled,
    "ceremony_changed": _changed,
    "ceremony_cancelled": _ceremony_cancelled,
    "ceremony_reminder": _reminder,
}


def _nomination(session, message, language, params) -> Composed:
    from ..nominations.service import STATUS_LABELS

    row = session.get(Nomination, int(message.object_id))
    user = session.get(User, row.created_by_id)
    status = params["status"]
    rendered = render("nomination_status_changed", language, name=user.name, nomination_id=row.id,
                      nominee=row.nominee.full_name, medal=row.medal.name(language), status=status,
                      status_label=STATUS_LABELS[status], comment=params.get("comment", row.last_comment) or "",
                      decree_number=row.decree_number, decree_date=row.decree_date,
                      link=f"{_base()}/staff/nominations/{row.id}")
    return Composed(rendered.subject, rendered.text, rendered.html)


def _nominations(session, message, language, params) -> Composed:
    from ..nominations.service import STATUS_LABELS

    rows = list(session.scalars(select(Nomination).where(Nomination.id.in_(params["nominations"]))
                                .options(selectinload(Nomination.nominee), selectinload(Nomination.medal))
                                .order_by(Nomination.id)))
    if not rows:
        raise LookupError(f"nominations {params['nominations']} do not exist")
    user = session.get(User, rows[0].created_by_id)
    status = params["status"]
    first = rows[0]
    rendered = render("nominations_decided", language, name=user.name, count=len(rows), status=status,
                      status_label=STATUS_LABELS[status], comment=params.get("comment", first.last_comment) or "",
                      decree_number=first.decree_number, decree_date=first.decree_date,
                      nominations=[dict(id=n.id, nominee=n.nominee.full_name, medal=n.medal.name(language))
                                   for n in rows],
                      link=f"{_base()}/staff/nominations/?status={status}")
    return Composed(rendered.subject, rendered.text, rendered.html)


def compose(session, message, now: datetime | None = None) -> Composed:
    """The subject, bodies and attachments of an outbox row (an ORM object or a
    Core row) that was decided without them.  Reads in ``session``; writes nothing."""
    now = now or utcnow()
    language = language_of(message.language)
    params = load_params(message)
    if message.kind == "nomination_status_changed":
        return _nomination(session, message, language, params)
    if message.kind == "nominations_decided":
        return _nominations(session, message, language, params)
    composer = _REGISTRATION_COMPOSERS.get(message.kind)
    if composer is None or message.object_type != "registration":
        raise ValueError(f"no way to compose a message of kind {message.kind!r} about {message.object_type!r}")
    registration = session.get(Registration, int(message.object_id))
    if registration is None:
        raise LookupError(f"registration {message.object_id} does not exist")
    return composer(session, message, registration, language, params, now)
