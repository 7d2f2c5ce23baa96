"""E-mail through the outbox, end to end: real rows, a real SMTP server on
loopback (aiosmtpd), every message read back with the ``email`` package, the
ticket PDF with pypdf and the calendar file with ``icalendar``.

Each test calls a notify function inside a transaction, commits, waits for the
in-process sender (``mail.flush()``) and reads what the server received.
Messages are matched to outbox rows by their Message-ID, so a confirmation the
services send by themselves does not disturb the counts.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import icalendar
import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select, text

from award_service import mail
from award_service.actor import Actor
from award_service.audit.models import AuditEvent
from award_service.ceremonies import messages as notify
from award_service.ceremonies import registrations
from award_service.ceremonies import service as ceremonies
from award_service.ceremonies.models import Registration
from award_service.extensions import db
from award_service.mail import outbox, sending
from award_service.mail.ics import escape_text, fold
from award_service.mail.ics import event as ics_event
from award_service.mail.models import OutboxAttachment, OutboxMessage
from award_service.mail.transport import Attachment
from award_service.nominations import messages as nomination_messages
from award_service.nominations import transitions
from award_service.timeutil import to_local, utcnow

from .conftest import PASSWORD, registration_data
from .nomination_factories import *  # noqa: F403  (fixtures: medal, cast, staff_user)
from .nomination_factories import DECREE, advance, nominate
from .test_certificate_pdf import flat, read
from .test_mail_helpers import attachments, html_body, smtp, text_body  # noqa: F401  (smtp: fixture)

TZ = "Asia/Almaty"
TITLE_KK = "Ұлы Жеңіс — ұрпаққа мұра"
TITLE_RU = "Великая Победа — наследие поколениям"


@pytest.fixture
def app(make_app, smtp):
    """The app pointed at the test SMTP server; no periodic sweep (the tests sweep
    themselves, with the clock they choose)."""
    app = make_app(
        AWARD_SMTP_HOST="127.0.0.1", AWARD_SMTP_PORT=smtp.port, AWARD_SMTP_TIMEOUT=5, AWARD_MAIL_SWEEP_SECONDS=0
    )
    with app.app_context():
        yield app
        mail.shutdown(app)


def register(ceremony, *, email: str | None = "attendee@example.kz", language: str = "kk", **data) -> Registration:
    """Register through the service (which sends its own confirmation or
    waiting-list message: waited for here, so that each test starts settled)."""
    values = registration_data(email=email or "", phone=data.pop("phone", ""), **data)
    registration = registrations.register(db.session, Actor.system("test"), ceremony.id, values, language=language)
    mail.flush()
    return registration


def messages_of(kind: str, registration_id: int | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    stmt = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    if registration_id is not None:
        stmt = stmt.where(OutboxMessage.object_type == "registration", OutboxMessage.object_id == str(registration_id))
    return list(db.session.scalars(stmt))


def send(function, *args, **kwargs):
    """Call a notify function inside a transaction, commit, wait for the sender."""
    result = function(db.session, *args, **kwargs)
    db.session.commit()
    mail.flush()
    return result


def row(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def translated(lang: str, msgid: str, **values) -> str:
    with force_locale(lang):
        return gettext(msgid, **values)


def local_day(value: datetime, lang: str) -> str:
    """The date and time as the service writes them (in every language), from
    the local wall clock: 09.05.2027, 19:00."""
    return f"{to_local(value, TZ):%d.%m.%Y, %H:%M}"


def parse_ics(data: bytes):
    calendar = icalendar.Calendar.from_ical(data)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return calendar, events[0]


def assert_rfc5545_lines(data: bytes) -> None:
    assert data.endswith(b"\r\n")
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # folding never splits a character
    assert b"\n" not in data.replace(b"\r\n", b"")


# ------------------------------------------------------------------ registrations


def test_confirmation_in_russian_with_the_ticket_and_a_calendar_invitation(app, smtp, make_ceremony):
    ceremony = make_ceremony(title_ru=TITLE_RU + " & встреча", address="Жезқазған, Абай к-сі, 10")
    registration = register(ceremony, email="marat@example.kz", language="ru", companions="2")

    message_id = send(notify.registration_confirmed, registration)

    [message] = smtp.messages_for([message_id])
    title = TITLE_RU + " & встреча"
    assert message["To"] == "marat@example.kz"
    assert parseaddr(message["From"])[1] == "no-reply@award.test"
    assert message["Content-Language"] == "ru"
    assert message["Subject"] == translated("ru", "Registration confirmed: %(title)s", title=title)
    assert TITLE_KK not in message["Subject"]
    body = text_body(message)
    assert body.startswith(translated("ru", "Dear %(name)s,", name="Жанболат Әбенов"))
    assert title in body  # plain text: the & is not escaped
    assert translated("ru", "Ticket code") in body and translated("ru", "Ticket code") != "Ticket code"
    assert local_day(ceremony.starts_at, "ru") in body  # the local day, in Russian
    assert f"{to_local(ceremony.starts_at, TZ):%H:%M}" in body
    assert "Алаш алаңы, Жезқазған, Абай к-сі, 10" in body
    assert f"http://award.test/r/{registration.token}" in body
    html = html_body(message)
    assert "&amp; встреча" in html and f'href="http://award.test/r/{registration.token}?lang=ru"' in html

    files = attachments(message)
    assert set(files) == {f"ticket-{registration.id}.pdf", "ceremony.ics"}
    pdf_type, pdf = files[f"ticket-{registration.id}.pdf"]
    assert pdf_type == "application/pdf"
    page_text = flat(read(pdf).pages[0].extract_text())
    assert "Жанболат Әбенов" in page_text
    assert TITLE_KK in page_text

    ics_type, data = files["ceremony.ics"]
    assert ics_type == "text/calendar"
    assert_rfc5545_lines(data)
    calendar, event = parse_ics(data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(event["UID"]) == f"registration-{registration.id}@award.test"
    assert event.decoded("DTSTART") == ceremony.starts_at
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert f"DTSTART:{ceremony.starts_at:%Y%m%dT%H%M%S}Z".encode() in data
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=2)
    assert str(event["SUMMARY"]) == title  # the comma-free title with its & kept
    assert str(event["LOCATION"]) == "Алаш алаңы, Жезқазған, Абай к-сі, 10"  # commas escaped and read back
    assert str(event["URL"]) == f"http://award.test/r/{registration.token}?lang=ru"
    assert str(event["STATUS"]) == "CONFIRMED"

    sent = row(message_id)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, None)
    assert sent.sent_at is not None and sent.kind == "registration_confirmed"
    assert sent.subject == message["Subject"]  # the text sent is kept; the attachments are not
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxAttachment).where(OutboxAttachment.message_id == message_id)
        )
        == 0
    )


@pytest.mark.parametrize("lang", ["kk", "en"])
def test_confirmation_follows_the_registration_language(app, smtp, make_ceremony, lang):
    ceremony = make_ceremony()
    registration = register(ceremony, language=lang)

    [message] = smtp.messages_for([send(notify.registration_confirmed, registration)])

    assert message["Content-Language"] == lang
    # No English title: the Russian one (the rule: the language asked for, Russian, Kazakh).
    title = TITLE_KK if lang == "kk" else ceremony.title_ru
    assert message["Subject"] == translated(lang, "Registration confirmed: %(title)s", title=title)
    body = text_body(message)
    assert local_day(ceremony.starts_at, lang) in body
    assert translated(lang, "Ticket code") in body
    _, event = parse_ics(attachments(message)["ceremony.ics"][1])
    assert str(event["SUMMARY"]) == title  # the calendar file follows the same rule


def test_the_change_decides_the_message_and_the_sender_composes_it(app, smtp, make_ceremony):
    """Inside the registration's transaction a message is one row -- who, in
    which language, about what -- with no text and no attachments; the sender
    composes it from the rows as they are when it sends, and keeps what it sent."""
    ceremony = make_ceremony()
    registration = register(ceremony, email="aru@example.kz", language="ru")

    message_id = notify.registration_confirmed(db.session, registration.id)
    decided = db.session.execute(select(OutboxMessage.__table__).where(OutboxMessage.id == message_id)).one()
    assert (decided.subject, decided.body_text, decided.body_html, decided.params) == (None, None, None, "{}")
    assert (decided.to_address, decided.language, decided.status) == ("aru@example.kz", "ru", "queued")
    assert (decided.object_type, decided.object_id) == ("registration", str(registration.id))
    assert decided.district_id == ceremony.district_id
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxAttachment).where(OutboxAttachment.message_id == message_id)
        )
        == 0
    )
    # The venue changes before the message goes out: it tells the new one.
    db.session.execute(text("UPDATE ceremonies SET venue = 'Қалалық мәдениет үйі' WHERE id = :id"), {"id": ceremony.id})
    db.session.commit()
    mail.flush()

    [message] = smtp.messages_for([message_id])
    assert "Қалалық мәдениет үйі" in text_body(message)
    assert set(attachments(message)) == {"ceremony.ics", f"ticket-{registration.id}.pdf"}
    sent = row(message_id)
    assert sent.status == "sent" and sent.subject == message["Subject"]
    assert sent.body_text.replace("\n", "") == text_body(message).replace("\r\n", "")
    assert sent.attachments == []  # rendered for each attempt, not kept (a ticket is about 28 KB)


def test_a_message_that_cannot_be_composed_fails_at_once_with_the_reason(app, smtp):
    message_id = outbox.enqueue(
        db.session,
        kind="registration_confirmed",
        to_address="x@example.kz",
        language="kk",
        object_type="registration",
        object_id=2**30,
    )
    db.session.commit()
    mail.flush()
    failed = row(message_id)
    assert (failed.status, failed.attempts, failed.subject) == ("failed", 1, None)
    assert "could not be composed" in failed.last_error and f"registration {2**30} does not exist" in failed.last_error
    assert smtp.messages_for([message_id]) == []
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "mail.failed", AuditEvent.object_id == str(message_id))
        )
        == 1
    )


def test_mail_can_be_suppressed_for_a_session(app, smtp, make_ceremony):
    """The demo data's fictitious people get no e-mail (``flask demo load`` without --mail)."""
    ceremony = make_ceremony()
    with outbox.suppressed(db.session):
        registration = register(ceremony, email="fiction@example.com")
        assert notify.registration_confirmed(db.session, registration.id) is None
        assert notify.ceremony_cancelled(db.session, ceremony.id) == []
        db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert notify.registration_confirmed(db.session, registration.id) is not None  # after the block: as usual
    db.session.rollback()


def test_waiting_list_promotion_and_cancellation(app, smtp, make_ceremony):
    ceremony = make_ceremony()
    registration = register(ceremony, email="dana@example.kz", language="ru")

    waitlisted = send(notify.registration_waitlisted, registration, 3)
    promoted = send(notify.registration_promoted, registration)
    registrations.cancel_registration(db.session, Actor.system("test"), db.session.get(Registration, registration.id))
    cancelled = send(notify.registration_cancelled, registration)

    first, second, third = smtp.messages_for([waitlisted, promoted, cancelled])
    assert first["Subject"] == translated("ru", "Waiting list: %(title)s", title=TITLE_RU)
    assert translated(
        "ru", "All seats are taken, so you are on the waiting list, in place %(position)d.", position=3
    ) in text_body(first)
    assert attachments(first) == {}

    assert second["Subject"] == translated("ru", "A seat is free for you: %(title)s", title=TITLE_RU)
    files = attachments(second)
    assert "Жанболат Әбенов" in flat(read(files[f"ticket-{registration.id}.pdf"][1]).pages[0].extract_text())
    _, promoted_event = parse_ics(files["ceremony.ics"][1])

    assert third["Subject"] == translated("ru", "Registration cancelled: %(title)s", title=TITLE_RU)
    assert set(attachments(third)) == {"ceremony.ics"}  # no ticket: it is no longer valid
    _, cancelled_event = parse_ics(attachments(third)["ceremony.ics"][1])
    # The same event, withdrawn: same UID, a later SEQUENCE, STATUS:CANCELLED.
    assert str(cancelled_event["UID"]) == str(promoted_event["UID"])
    assert cancelled_event["SEQUENCE"] >= promoted_event["SEQUENCE"]
    assert str(cancelled_event["STATUS"]) == "CANCELLED"


def test_a_waitlisted_registration_cancelled_gets_no_calendar_file(app, smtp, make_ceremony):
    """Through the services: a full ceremony puts the second person on its waiting
    list; cancelling from there withdraws no calendar event (none was sent)."""
    ceremony = make_ceremony(capacity=1, waitlist=True)
    register(ceremony, email="seated@example.kz")
    waiting = register(ceremony, email="waiting@example.kz", language="ru")
    registrations.cancel_registration(db.session, Actor.system("test"), db.session.get(Registration, waiting.id))
    mail.flush()
    [listed] = messages_of("registration_waitlisted", waiting.id)
    [cancelled] = messages_of("registration_cancelled", waiting.id)
    assert messages_of("registration_confirmed", waiting.id) == []
    first, second = smtp.messages_for([listed.id, cancelled.id])
    assert translated(
        "ru", "All seats are taken, so you are on the waiting list, in place %(position)d.", position=1
    ) in text_body(first)
    assert attachments(second) == {}


def test_registrations_without_an_email_get_nothing(app, smtp, make_ceremony):
    ceremony = make_ceremony()
    registration = register(ceremony, email=None, phone="+7 701 111 22 33")
    assert send(notify.registration_confirmed, registration) is None
    assert send(notify.registration_waitlisted, registration, 1) is None
    assert send(notify.ceremony_cancelled, ceremony) == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_rolled_back_transaction_sends_nothing(app, smtp, make_ceremony):
    registration = register(make_ceremony())
    before = len(smtp.recorder.received)

    message_id = notify.registration_confirmed(db.session, registration)
    assert message_id is not None
    db.session.rollback()
    mail.flush()

    assert row(message_id) is None
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxAttachment).where(OutboxAttachment.message_id == message_id)
        )
        == 0
    )
    assert smtp.messages_for([message_id]) == []
    assert len(smtp.recorder.received) == before
    # The next commit of the same session does not send the discarded message either.
    db.session.execute(text("SELECT 1"))
    db.session.commit()
    mail.flush()
    assert len(smtp.recorder.received) == before


def test_a_savepoint_rolled_back_keeps_what_came_before_it(app, smtp, make_ceremony):
    ceremony = make_ceremony()
    kept = register(ceremony, email="kept@example.kz")
    dropped = register(ceremony, email="dropped@example.kz")

    kept_id = notify.registration_confirmed(db.session, kept)
    savepoint = db.session.begin_nested()
    dropped_id = notify.registration_confirmed(db.session, dropped)
    savepoint.rollback()
    db.session.commit()
    mail.flush()

    assert [m["To"] for m in smtp.messages_for([kept_id, dropped_id])] == ["kept@example.kz"]
    assert row(dropped_id) is None and row(kept_id).status == "sent"


# ------------------------------------------------------------------ ceremonies


def test_ceremony_changed_tells_every_active_registration_in_its_language(app, smtp, make_ceremony):
    ceremony = make_ceremony()
    kk = register(ceremony, email="kk@example.kz", language="kk")
    ru = register(ceremony, email="ru@example.kz", language="ru")
    register(ceremony, email=None, phone="+7 701 111 22 33")  # phone only
    gone = register(ceremony, email="gone@example.kz")
    registrations.cancel_registration(db.session, Actor.system("test"), db.session.get(Registration, gone.id))
    ceremony = ceremonies.get_ceremony(db.session, ceremony.id)
    old_start = ceremony.starts_at
    new_start = old_start + timedelta(days=1, hours=-2)

    # As the service would: the change and the messages in one transaction.
    ceremony.starts_at = new_start
    ceremony.venue = "Қалалық мәдениет үйі"
    ids = send(
        notify.ceremony_changed,
        ceremony,
        {"starts_at": (old_start, new_start), "venue": ("Алаш алаңы", "Қалалық мәдениет үйі")},
    )

    messages = {m["To"]: m for m in smtp.messages_for(ids)}
    assert set(messages) == {"kk@example.kz", "ru@example.kz"}
    for lang, address, registration, title in (
        ("kk", "kk@example.kz", kk, TITLE_KK),
        ("ru", "ru@example.kz", ru, TITLE_RU),
    ):
        message = messages[address]
        assert message["Subject"] == translated(lang, "Changes to the ceremony: %(title)s", title=title)
        body = text_body(message)
        assert local_day(new_start, lang) in body and local_day(old_start, lang) in body
        assert "Қалалық мәдениет үйі" in body
        _, event = parse_ics(attachments(message)["ceremony.ics"][1])
        assert str(event["UID"]) == f"registration-{registration.id}@award.test"
        assert event.decoded("DTSTART") == new_start
        assert str(event["LOCATION"]).startswith("Қалалық мәдениет үйі")


def test_a_change_attendees_do_not_care_about_sends_nothing(app, smtp, make_ceremony):
    ceremony = make_ceremony()
    register(ceremony)
    assert send(notify.ceremony_changed, ceremony, {"capacity": 40, "registration_closes_at": None}) == []
    assert messages_of("ceremony_changed") == []


def test_ceremony_cancelled_withdraws_the_calendar_event(app, smtp, make_ceremony):
    ceremony = make_ceremony()
    first = register(ceremony, email="one@example.kz", language="ru")
    register(ceremony, email="two@example.kz")
    ceremonies.transition_ceremony(db.session, Actor.system("test"), ceremony, "cancel")

    ids = send(notify.ceremony_cancelled, ceremony)

    messages = {m["To"]: m for m in smtp.messages_for(ids)}
    assert set(messages) == {"one@example.kz", "two@example.kz"}
    russian = messages["one@example.kz"]
    assert russian["Subject"] == translated("ru", "Ceremony cancelled: %(title)s", title=TITLE_RU)
    assert translated("ru", "This ceremony has been cancelled.") in text_body(russian)
    _, event = parse_ics(attachments(russian)["ceremony.ics"][1])
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == f"registration-{first.id}@award.test"


def _local(moment: datetime) -> str:
    return to_local(moment, TZ).strftime("%Y-%m-%dT%H:%M")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time as an aware UTC datetime."""
    from award_service.timeutil import zone

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone(TZ)).astimezone(UTC)


def test_reminders_the_day_before_from_ten_oclock_local_time_once_each(app, smtp, make_ceremony, runner):
    assert app.config["AWARD_MAIL_REMINDER_HOUR"] == 10
    day = to_local(utcnow(), TZ).date() + timedelta(days=5)  # "today" in this test: D
    tomorrow = day + timedelta(days=1)
    morning = make_ceremony(starts_at=_local(_at(tomorrow, 0, 30)))  # D+1 00:30: reminded at D 10:00
    evening = make_ceremony(starts_at=_local(_at(tomorrow, 23, 30)))  # D+1 23:30: also at D 10:00
    later = make_ceremony(starts_at=_local(_at(day + timedelta(days=2), 10)))  # D+2: reminded at D+1 10:00
    too_late = make_ceremony(starts_at=_local(_at(day, 11)))  # D 11:00: a run at D 10:00 is too late for it
    reminded = [register(morning, email="a@example.kz", language="ru"), register(evening, email="b@example.kz")]
    register(morning, email=None, phone="+7 701 111 22 33")
    cancelled = register(morning, email="c@example.kz")
    registrations.cancel_registration(db.session, Actor.system("test"), db.session.get(Registration, cancelled.id))
    register(later, email="d@example.kz")
    register(too_late, email="e@example.kz")
    # Registered after its reminder was due: its confirmation is fresh, no reminder.
    newcomer = register(evening, email="f@example.kz")
    db.session.execute(
        text("UPDATE registrations SET created_at = :t WHERE id = :id"), {"t": _at(day, 10, 30), "id": newcomer.id}
    )
    db.session.commit()

    assert notify.enqueue_reminders(db.session, _at(day, 9, 59)) == 0  # not yet
    assert notify.enqueue_reminders(db.session, _at(day, 10)) == 2
    db.session.commit()
    assert notify.enqueue_reminders(db.session, _at(day, 10)) == 0  # idempotent
    assert notify.enqueue_reminders(db.session, _at(day, 11)) == 0  # the next hourly run
    db.session.commit()
    mail.flush()

    rows = messages_of("ceremony_reminder")
    assert [(r.kind, r.to_address) for r in rows] == [
        ("ceremony_reminder", "a@example.kz"),
        ("ceremony_reminder", "b@example.kz"),
    ]
    assert rows[0].dedupe_key.startswith(f"ceremony_reminder:{reminded[0].id}:")
    messages = smtp.messages_for([r.id for r in rows])
    assert len(messages) == 2
    russian = next(m for m in messages if m["To"] == "a@example.kz")
    assert russian["Subject"].startswith(
        translated("ru", "Reminder: %(title)s, %(when)s", title=TITLE_RU, when="").rstrip(", ")
    )
    assert local_day(morning.starts_at, "ru") in russian["Subject"]
    assert f"http://award.test/r/{reminded[0].token}/ticket.pdf" in text_body(russian)

    # The next day's run reminds the D+2 ceremony; a sweep that ran late still
    # catches up, but not within two hours of the start.
    assert notify.enqueue_reminders(db.session, _at(tomorrow, 16)) == 1
    db.session.commit()
    assert [r.to_address for r in messages_of("ceremony_reminder")][-1] == "d@example.kz"

    # A ceremony moved to another day is reminded again for the new day.
    db.session.execute(
        text("UPDATE ceremonies SET starts_at = :t WHERE id = :id"),
        {"t": _at(tomorrow + timedelta(days=1), 12), "id": morning.id},
    )
    db.session.commit()
    assert notify.enqueue_reminders(db.session, _at(tomorrow, 10)) == 1
    db.session.commit()
    mail.flush()

    # The command line does the same with the real clock (nothing is due today).
    result = runner.invoke(args=["mail", "reminders"])
    assert result.exit_code == 0, result.output
    assert "reminders queued: 0" in result.output


def test_the_dedupe_key_is_unique_in_the_table(app):
    now = utcnow()
    values = {
        "kind": "ceremony_reminder",
        "to_address": "a@example.kz",
        "language": "kk",
        "subject": "s",
        "body_text": "b",
        "dedupe_key": "ceremony_reminder:1:20300101T000000Z",
        "now": now,
    }
    first = outbox.enqueue(db.session, **values)
    second = outbox.enqueue(db.session, **values)  # INSERT … ON CONFLICT DO NOTHING
    assert first is not None and second is None
    db.session.rollback()


# ------------------------------------------------------------------ nominations


def test_nomination_decisions_reach_the_nominator_in_their_language(app, smtp, cast):
    cast.nominator.language = "ru"
    db.session.commit()
    returned = advance(nominate(cast.nominator), "returned", cast)
    approved = advance(nominate(cast.nominator), "approved", cast)
    rejected = advance(nominate(cast.nominator), "rejected", cast)

    ids = [
        send(nomination_messages.nomination_status_changed, returned, "return"),
        send(nomination_messages.nomination_status_changed, approved, "approved"),
        send(nomination_messages.nomination_status_changed, rejected, "reject"),
    ]
    assert send(nomination_messages.nomination_status_changed, approved, "submit") is None
    with pytest.raises(ValueError):
        nomination_messages.nomination_status_changed(db.session, approved, "approve-ish")

    messages = smtp.messages_for(ids)
    assert [m["To"] for m in messages] == [cast.nominator.email] * 3
    back, yes, no = messages
    assert back["Subject"] == translated(
        "ru", "Nomination returned for changes: %(name)s", name=returned.nominee.full_name
    )
    assert "Архив анықтамасын қосыңыз." in text_body(back)
    assert f"http://award.test/staff/nominations/{returned.id}" in text_body(back)

    body = text_body(yes)
    assert yes["Subject"] == translated("ru", "Nomination approved: %(name)s", name=approved.nominee.full_name)
    assert approved.nominee.full_name in body
    assert translated("ru", "approved") in body and translated("ru", "approved") != "approved"
    assert "80 лет Победы" in body  # the medal's Russian name
    decree_day = date.fromisoformat(DECREE["decree_date"]).strftime("%d.%m.%Y")
    assert translated("ru", "Decree № %(number)s of %(date)s.", number=DECREE["decree_number"], date=decree_day) in body

    assert no["Subject"] == translated("ru", "Nomination rejected: %(name)s", name=rejected.nominee.full_name)
    assert "Құжаттар расталмады." in text_body(no)


def test_a_decree_reaches_the_nominator_as_one_message_listing_theirs(app, smtp, cast):

    cast.nominator.language = "ru"
    db.session.commit()
    listed = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(3)]
    transitions.bulk_transition(db.session, Actor(user=cast.commission), [n.id for n in listed], "approve", **DECREE)
    mail.flush()
    [row_] = messages_of("nominations_decided")
    [message] = smtp.messages_for([row_.id])
    assert message["To"] == cast.nominator.email and message["Content-Language"] == "ru"
    assert message["Subject"] == translated("ru", "Nominations approved: %(count)d", count=3)
    body = text_body(message)
    for nomination in listed:
        assert f"№ {nomination.id}: {nomination.nominee.full_name} (80 лет Победы" in body
    assert "http://award.test/staff/nominations/?status=approved" in body
    assert messages_of("nomination_status_changed") == []


# ------------------------------------------------------------------ failures and retries


def test_nothing_is_lost_while_the_smtp_server_is_down(app, smtp, make_ceremony):
    ceremony = make_ceremony()
    people = [register(ceremony, email=f"p{i}@example.kz") for i in range(4)]
    send(notify.registration_confirmed, people[0])  # delivered: the server is up
    smtp.stop()

    down_at = utcnow()
    one = send(notify.registration_confirmed, people[1])
    two = send(notify.registration_waitlisted, people[2], 1)
    # Two in one commit: after the first finds the server down the sender stops
    # (the second is left queued, untried, for the sweep).
    three = notify.registration_confirmed(db.session, people[3])
    four = notify.registration_cancelled(db.session, people[0])
    db.session.commit()
    mail.flush()

    for message_id in (one, two):
        waiting = row(message_id)
        assert waiting.status == "queued" and waiting.attempts == 1
        assert "Cannot reach the SMTP server" in waiting.last_error
        # back-off: one minute after the first failure
        assert down_at + timedelta(seconds=59) <= waiting.next_attempt_at <= utcnow() + timedelta(seconds=61)
    assert row(three).attempts == 1 and row(three).status == "queued"
    assert row(four).attempts == 0 and row(four).status == "queued"

    # Still down: the sweep tries what is due (four), keeps the others waiting.
    assert sending.send_due(db.session)["due"] == 1
    assert row(four).attempts == 1 and row(four).status == "queued"

    # While the messages wait, the organisers move the ceremony to another hall:
    # each attempt is composed afresh, so the confirmations sent tell the new one.
    db.session.execute(text("UPDATE ceremonies SET venue = 'Қалалық мәдениет үйі' WHERE id = :id"), {"id": ceremony.id})
    db.session.commit()

    smtp.start()  # a new server on the same port
    assert sending.send_due(db.session)["due"] == 0  # the back-off has not passed: nothing is sent early
    assert smtp.messages_for([one, two, three, four]) == []

    later = utcnow() + timedelta(minutes=2)
    counts = sending.send_due(db.session, now=later)
    assert counts["sent"] == 4
    assert sending.send_due(db.session, now=later + timedelta(hours=3))["due"] == 0
    received = smtp.messages_for([one, two, three, four])
    assert sorted(m["Message-ID"] for m in received) == sorted({m["Message-ID"] for m in received})  # once each
    assert len(received) == 4
    for message_id in (one, two, three, four):
        assert row(message_id).status == "sent" and row(message_id).attempts == 2
    confirmation = smtp.messages_for([one])[0]
    assert "Қалалық мәдениет үйі" in text_body(confirmation) and "Қалалық мәдениет үйі" in row(one).body_text
    _, event = parse_ics(attachments(confirmation)["ceremony.ics"][1])
    assert str(event["LOCATION"]).startswith("Қалалық мәдениет үйі")


def test_back_off_doubles_up_to_an_hour_then_the_message_fails(app, smtp, make_ceremony):
    assert [sending.backoff(n, app.config).total_seconds() for n in range(1, 10)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
        3600,
    ]
    app.config["AWARD_MAIL_MAX_ATTEMPTS"] = 3
    registration = register(make_ceremony())
    smtp.stop()
    message_id = send(notify.registration_confirmed, registration)
    clock = utcnow()
    for expected_attempts in (2, 3):
        clock += timedelta(hours=1, seconds=1)
        sending.send_due(db.session, now=clock)
        assert row(message_id).attempts == expected_attempts
    failed = row(message_id)
    assert failed.status == "failed"
    assert "gave up after 3 attempts" in failed.last_error
    assert sending.send_due(db.session, now=clock + timedelta(days=1))["due"] == 0


def test_a_rejected_recipient_fails_at_once_and_organisers_see_it_and_retry(
    app, smtp, make_ceremony, make_user, client, login
):
    smtp.recorder.rejected.add("nobody@example.kz")
    # The service's own confirmation (sent after its commit) is refused by the server.
    registration = register(make_ceremony(district="zhezkazgan"), email="nobody@example.kz")
    [message_id] = [m.id for m in messages_of("registration_confirmed", registration.id)]

    failed = row(message_id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "550" in failed.last_error and "Recipient address rejected" in failed.last_error
    assert smtp.messages_for([message_id]) == []
    assert (
        db.session.scalar(
            select(AuditEvent.action).where(
                AuditEvent.object_type == "outbox_message", AuditEvent.object_id == str(message_id)
            )
        )
        == "mail.failed"
    )

    # A nominator may not see the outbox or retry.
    nominator = make_user("nominator")
    other = app.test_client()
    assert other.post("/staff/login", data={"email": nominator.email, "password": PASSWORD}).status_code == 302
    assert other.get("/staff/mail/").status_code == 403
    assert other.post("/staff/mail/retry", data={"message_id": message_id}).status_code == 403
    # An organiser of another district does not see this district's messages.
    elsewhere = make_user("organiser", district="karazhal")
    far = app.test_client()
    assert far.post("/staff/login", data={"email": elsewhere.email, "password": PASSWORD}).status_code == 302
    page = far.get("/staff/mail/")
    assert page.status_code == 200 and "nobody@example.kz" not in page.text
    assert far.post("/staff/mail/retry", data={"message_id": message_id}).status_code == 403

    login(make_user("organiser"))
    page = client.get("/staff/mail/")
    assert page.status_code == 200
    failed_table = page.text.split('id="failed"', 1)[1].split("</table>", 1)[0]
    assert "nobody@example.kz" in failed_table and "550" in failed_table
    assert failed.subject.split(":")[0] in failed_table
    assert '<td id="count-failed">1</td>' in page.text

    smtp.recorder.rejected.clear()  # the address was fixed at the receiving end
    response = client.post("/staff/mail/retry", data={"message_id": message_id})
    assert response.status_code == 302
    mail.flush()
    assert row(message_id).status == "sent"
    assert len(smtp.messages_for([message_id])) == 1
    retry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mail.retry")).one()
    assert retry.object_id == str(message_id) and retry.actor_label.endswith("-organiser@example.com")
    # Sent: nothing left to retry.
    again = client.post("/staff/mail/retry", data={"message_id": message_id}, follow_redirects=True)
    assert again.status_code == 200 and len(smtp.messages_for([message_id])) == 1
    assert client.post("/staff/mail/retry", data={"message_id": 999999}).status_code == 404


def test_concurrent_sweeps_send_each_message_once(app, smtp, make_ceremony):
    """Senders racing on the same due messages (several workers, beat and the
    CLI at once): the conditional claim gives each message to one of them."""
    registration = register(make_ceremony())
    ids = [
        outbox.enqueue(
            db.session,
            kind="registration_confirmed",
            to_address=f"n{i}@example.kz",
            language="kk",
            subject=f"Message {i}",
            body_text="Сәлем!\n",
        )
        for i in range(30)
    ]
    db.session.info.pop(outbox.PENDING)  # not handed to the in-process sender: the sweeps race for them
    db.session.commit()
    assert registration.id

    errors = []

    def sweep():
        try:
            with app.app_context():
                sending.send_due(db.session)
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    received = smtp.messages_for(ids)
    assert len(received) == 30
    assert len({m["Message-ID"] for m in received}) == 30
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == "sent", OutboxMessage.id.in_(ids))
        )
        == 30
    )


def test_a_sender_that_died_mid_send_is_taken_over_after_its_lease(app, smtp, make_ceremony):
    message_id = notify.registration_confirmed(db.session, register(make_ceremony()))
    db.session.info.pop(outbox.PENDING)
    db.session.commit()
    now = utcnow()
    assert sending.claim(db.session, message_id, now) == 1  # claimed … and the sender dies
    assert sending.send_due(db.session, now=now + timedelta(minutes=1))["due"] == 0
    assert sending.send_due(db.session, now=now + outbox.LEASE + timedelta(seconds=1))["sent"] == 1
    assert row(message_id).attempts == 2 and len(smtp.messages_for([message_id])) == 1


# ------------------------------------------------------------------ no SMTP server


def test_without_an_smtp_server_messages_are_written_to_the_instance_folder(app, smtp, make_ceremony):
    import email
    import email.policy

    app.config["AWARD_SMTP_HOST"] = ""  # the embedded default
    registration = register(make_ceremony(), email="file@example.kz", language="ru")
    folder = Path(app.instance_path) / "mail"  # shared by the tests of this run: look at what is new
    before = set(folder.glob("*.eml"))

    message_id = send(notify.registration_confirmed, registration)

    assert row(message_id).status == "sent"
    assert smtp.messages_for([message_id]) == []
    [path] = list(set(folder.glob(f"*-{message_id:07d}-registration_confirmed.eml")) - before)
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "file@example.kz"
    assert message["Subject"] == translated("ru", "Registration confirmed: %(title)s", title=TITLE_RU)
    assert set(attachments(message)) == {f"ticket-{registration.id}.pdf", "ceremony.ics"}
    assert not list(folder.glob("*.tmp"))


def test_cli_send_and_status(app, smtp, make_ceremony, runner):
    message_id = notify.registration_confirmed(db.session, register(make_ceremony()))
    # A message enqueued with its text and attachments, as those written before
    # migration 0010 were: sent as it is; its attachments are purged later.
    given = outbox.enqueue(
        db.session,
        kind="registration_confirmed",
        to_address="old@example.kz",
        language="kk",
        subject="Сәлем",
        body_text="Мәтін\n",
        attachments=[Attachment("ticket-1.pdf", "application/pdf", b"%PDF-1.4 ...")],
    )
    db.session.info.pop(outbox.PENDING)
    db.session.commit()
    result = runner.invoke(args=["mail", "status"])
    assert "queued: 2" in result.output
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "due: 2, sent: 2" in result.output
    assert len(smtp.messages_for([message_id])) == 1
    [old] = smtp.messages_for([given])
    assert old["Subject"] == "Сәлем" and attachments(old) == {"ticket-1.pdf": ("application/pdf", b"%PDF-1.4 ...")}
    assert db.session.scalar(select(func.count()).select_from(OutboxAttachment)) == 1
    result = runner.invoke(args=["mail", "purge", "--keep-days", "0"])
    assert result.exit_code == 0 and "attachments dropped: 1" in result.output
    assert db.session.scalar(select(func.count()).select_from(OutboxAttachment)) == 0
    assert row(message_id).status == "sent" and row(given).status == "sent"


# ------------------------------------------------------------------ the calendar file


def test_ics_folding_and_escaping_read_back_by_an_independent_parser():
    summary = (
        "Ұлы Жеңістің 80 жылдығына арналған салтанатты жиын; ардагерлер, тыл еңбеккерлері "
        "және олардың отбасылары үшін \\ «Жезқазған» қаласы"
    )
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    start = datetime(2026, 5, 9, 14, 0, tzinfo=UTC)
    data = ics_event(
        uid="registration-7@award.test",
        starts_at=start,
        summary=summary,
        location="Алаш алаңы, Жезқазған",
        description="Line one\nLine two",
        url="http://award.test/r/x",
        organizer_name="Award Service",
        organizer_email="no-reply@award.test",
        now=now,
    )
    assert_rfc5545_lines(data)
    _, event = parse_ics(data)
    assert str(event["SUMMARY"]) == summary
    assert str(event["DESCRIPTION"]) == "Line one\nLine two"
    assert event.decoded("DTSTART") == start and event.decoded("DTEND") == start + timedelta(hours=2)
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert fold("x" * 80) == "x" * 75 + "\r\n " + "x" * 5
