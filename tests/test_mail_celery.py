"""Mail with a broker: a real Celery worker (in a thread of this process) on the
Redis at 127.0.0.1:6379 sends what a commit hands it, and runs the beat tasks
(the sweep, the reminders).  Skipped, saying so, when Redis cannot be reached."""

from __future__ import annotations

import socket
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from award_service import mail
from award_service.ceremonies import messages as notify
from award_service.extensions import db
from award_service.mail import outbox, sending
from award_service.mail.models import OutboxMessage
from award_service.mail.tasks import REMINDERS, SEND_DUE, celery_for
from award_service.timeutil import to_local, utcnow

from .test_mail import register
from .test_mail_helpers import SmtpServer, attachments, smtp  # noqa: F401  (smtp: fixture)

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 13


def _redis_reachable() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not _redis_reachable(),
    reason=f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}: the Celery tests need it as their broker",
)


@pytest.fixture
def app(make_app, smtp):
    app = make_app(
        AWARD_SMTP_HOST="127.0.0.1",
        AWARD_SMTP_PORT=smtp.port,
        AWARD_SMTP_TIMEOUT=5,
        AWARD_MAIL_SWEEP_SECONDS=0,
        AWARD_CELERY_BROKER_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
    )
    with app.app_context():
        yield app
        mail.shutdown(app)


@pytest.fixture
def worker(app):
    """A Celery worker on a queue of its own (another test run on this Redis cannot take its tasks)."""
    from celery.contrib.testing.worker import start_worker

    celery = celery_for(app)
    queue = f"award-mail-test-{uuid.uuid4().hex[:12]}"
    celery.conf.task_default_queue = queue
    with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        yield celery
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    client.delete(queue, f"_kombu.binding.{queue}")
    client.close()


def wait_for_status(message_id: int, status: str, timeout: float = 20.0) -> OutboxMessage:
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        message = db.session.get(OutboxMessage, message_id)
        if (message is not None and message.status == status) or time.monotonic() > deadline:
            return message
        time.sleep(0.05)


def test_the_worker_sends_after_the_commit(app, smtp, worker, make_ceremony):
    registration = register(make_ceremony(), email="celery@example.kz", language="ru")

    message_id = notify.registration_confirmed(db.session, registration)
    time.sleep(0.5)
    assert smtp.messages_for([message_id]) == []  # nothing before the commit
    db.session.commit()

    [message] = smtp.wait_for([message_id])
    assert message["To"] == "celery@example.kz" and message["Content-Language"] == "ru"
    assert set(attachments(message)) == {f"ticket-{registration.id}.pdf", "ceremony.ics"}
    sent = wait_for_status(message_id, "sent")
    assert sent.status == "sent" and sent.attempts == 1
    assert app.extensions["award_mail"]._sender is None  # no thread of this process: the worker sent it

    # Many commits in a burst (a ceremony's registration opening): their ids go
    # to the worker in tasks of up to Publisher.BATCH, each message sent once.
    ceremony = make_ceremony(capacity=100)
    burst = []
    for i in range(30):
        burst.append(notify.registration_confirmed(db.session, register(ceremony, email=f"burst{i}@example.kz")))
        db.session.commit()
    # Waited for in the database: parsing what the SMTP server received again and
    # again would take the worker's CPU (it runs in this process).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.id.in_(burst), OutboxMessage.status == "sent")
    ) < len(burst):
        time.sleep(0.2)
        db.session.expire_all()
    received = smtp.messages_for(burst)
    assert sorted(m["To"] for m in received) == sorted(f"burst{i}@example.kz" for i in range(30))
    assert set(db.session.scalars(select(OutboxMessage.attempts).where(OutboxMessage.id.in_(burst)))) == {1}


def test_beat_tasks_sweep_and_remind_through_the_worker(app, smtp, worker, make_ceremony):
    schedule = worker.conf.beat_schedule
    assert schedule["send-due-mail"]["task"] == SEND_DUE and schedule["send-due-mail"]["schedule"] == 60.0
    assert schedule["ceremony-reminders"]["task"] == REMINDERS

    # A message the broker never heard of (its hand-over was lost): the sweep sends it.
    lost = outbox.enqueue(
        db.session,
        kind="registration_confirmed",
        to_address="lost@example.kz",
        language="kk",
        subject="Сәлем",
        body_text="Сәлем!\n",
    )
    db.session.info.pop(outbox.PENDING)
    db.session.commit()
    worker.tasks[SEND_DUE].delay()
    assert len(smtp.wait_for([lost])) == 1

    # The hourly reminders: enqueued by the worker, handed on by its commit, sent
    # by it.  A ceremony tomorrow (local time) is due for its reminder from
    # AWARD_MAIL_REMINDER_HOUR today: midnight here, so at any time of day; the
    # registration was made before that.
    app.config["AWARD_MAIL_REMINDER_HOUR"] = 0
    tomorrow = to_local(utcnow(), app.config["AWARD_TIMEZONE"]).date() + timedelta(days=1)
    soon = make_ceremony(starts_at=f"{tomorrow.isoformat()}T23:00")
    registration = register(soon, email="remind@example.kz")
    db.session.execute(
        text("UPDATE registrations SET created_at = :t WHERE id = :id"),
        {"t": utcnow() - timedelta(days=2), "id": registration.id},
    )
    db.session.commit()
    worker.tasks[REMINDERS].delay()
    deadline = time.monotonic() + 20
    reminder = None
    while reminder is None and time.monotonic() < deadline:
        db.session.expire_all()
        reminder = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == "ceremony_reminder"))
        time.sleep(0.05)
    assert reminder is not None
    [message] = smtp.wait_for([reminder])
    assert message["To"] == "remind@example.kz"
    assert wait_for_status(reminder, "sent").status == "sent"
    assert db.session.get(OutboxMessage, reminder).dedupe_key.startswith(f"ceremony_reminder:{registration.id}:")


def test_a_broker_that_is_down_loses_nothing(make_app, smtp, make_ceremony):
    closed = SmtpServer().port  # a free port: nothing listens there
    app = make_app(
        AWARD_SMTP_HOST="127.0.0.1",
        AWARD_SMTP_PORT=smtp.port,
        AWARD_MAIL_SWEEP_SECONDS=0,
        AWARD_CELERY_BROKER_URL=f"redis://127.0.0.1:{closed}/0",
    )
    with app.app_context():
        registration = register(make_ceremony(), email="later@example.kz")
        message_id = notify.registration_confirmed(db.session, registration)
        started = time.monotonic()
        db.session.commit()  # the hand-over fails; the commit stands
        assert time.monotonic() - started < 15
        assert db.session.get(OutboxMessage, message_id).status == "queued"
        assert sending.send_due(db.session)["sent"] >= 1  # with the service's own confirmation
        assert db.session.get(OutboxMessage, message_id).status == "sent"
        assert len(smtp.messages_for([message_id])) == 1


def test_the_worker_sweeps_by_itself_when_beat_is_not_running(make_app, smtp):
    """No beat: the worker publishes the sweep to itself from its start and on
    its timer, so a message whose hand-over was lost still goes out."""
    from celery.contrib.testing.worker import start_worker

    app = make_app(
        AWARD_SMTP_HOST="127.0.0.1",
        AWARD_SMTP_PORT=smtp.port,
        AWARD_SMTP_TIMEOUT=5,
        AWARD_MAIL_SWEEP_SECONDS=1,
        AWARD_CELERY_BROKER_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
    )
    with app.app_context():
        celery = celery_for(app)
        assert celery.conf.beat_schedule["send-due-mail"]["schedule"] == 1.0  # beat, where it runs, as often
        queue = f"award-mail-test-{uuid.uuid4().hex[:12]}"
        celery.conf.task_default_queue = queue
        lost = outbox.enqueue(
            db.session,
            kind="registration_confirmed",
            to_address="nobeat@example.kz",
            language="kk",
            subject="Сәлем",
            body_text="Сәлем!\n",
        )
        db.session.info.pop(outbox.PENDING)  # never handed to the broker
        db.session.commit()
        try:
            with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=20):
                assert len(smtp.wait_for([lost], timeout=15)) == 1
                assert wait_for_status(lost, "sent").status == "sent"
                # A message whose attempt failed is retried by the next sweeps, still without beat.
                retry = outbox.enqueue(
                    db.session,
                    kind="registration_confirmed",
                    to_address="retry@example.kz",
                    language="kk",
                    subject="Сәлем",
                    body_text="Сәлем!\n",
                )
                db.session.info.pop(outbox.PENDING)
                db.session.execute(
                    text("UPDATE outbox_messages SET attempts = 1, next_attempt_at = :t WHERE id = :id"),
                    {"t": utcnow() + timedelta(seconds=2), "id": retry},
                )
                db.session.commit()
                assert len(smtp.wait_for([retry], timeout=15)) == 1
        finally:
            import redis

            client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
            client.delete(queue, f"_kombu.binding.{queue}")
            client.close()
        mail.shutdown(app)
    assert len(smtp.messages_for([lost])) == 1
