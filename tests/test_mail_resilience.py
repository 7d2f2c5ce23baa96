"""The outbox survives the faults found when the service was run for real
(issue 13, item 6), with real processes, a real SMTP server and the real database:

- without a broker a serving process sweeps on its own timer from its start,
  so a message whose attempt failed before a reload or a crash is sent without
  waiting for the next commit that produces mail;
- a sender killed in the middle of a batch re-sends, after its lease, only the
  message the SMTP server took in the moment before it died, under the same
  Message-ID: every message is marked sent as soon as the server accepts it;
- a database that cannot be written for a moment right after the server
  accepted a message: the mark is retried, then remembered and written later,
  and the message is not sent again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from award_service import mail
from award_service.config import PROJECT_ROOT
from award_service.extensions import db
from award_service.mail import outbox, sending
from award_service.mail.models import OutboxMessage
from award_service.timeutil import utcnow

from .test_mail_helpers import Recorder, SmtpServer


class SlowRecorder(Recorder):
    """Takes each message (records it: from then on the server holds it), then
    waits ``delay`` seconds before answering 250, as a busy server does; calls
    ``on_data(n)`` (in the server's thread) with the number of messages taken."""

    def __init__(self, delay: float = 0.0):
        super().__init__()
        self.delay = delay
        self.on_data = None

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            count = len(self.received)
        if self.on_data is not None:
            self.on_data(count)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"


@pytest.fixture
def slow_smtp():
    server = SmtpServer()
    server.recorder = SlowRecorder()
    server.start()
    yield server
    server.stop()


def message_ids(server) -> Counter:
    """How many times each Message-ID reached the server."""
    return Counter(m["Message-ID"] for m in server.recorder.messages())


def enqueue_plain(count: int, prefix: str = "p") -> list[int]:
    """Messages given their text (nothing to compose: the test is about sending),
    committed without being handed to this process's sender."""
    ids = [
        outbox.enqueue(
            db.session,
            kind="registration_confirmed",
            to_address=f"{prefix}{i}@example.kz",
            language="kk",
            subject=f"Хабар {i}",
            body_text="Сәлем!\n",
        )
        for i in range(count)
    ]
    db.session.info.pop(outbox.PENDING)
    db.session.commit()
    return ids


def statuses(ids) -> dict[int, tuple[str, int]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts).where(OutboxMessage.id.in_(ids))
    ).all()
    return {r.id: (r.status, r.attempts) for r in rows}


def wait_until(predicate, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


# ------------------------------------------------------------------ the timer sweep


def test_a_serving_process_sweeps_on_its_timer_without_a_commit(make_app, slow_smtp):
    """A message whose attempt failed before a reload (``kill -HUP``) or a crash:
    the new process sends it on its own timer, with no commit producing mail."""
    app = make_app(
        AWARD_SMTP_HOST="127.0.0.1",
        AWARD_SMTP_PORT=slow_smtp.port,
        AWARD_SMTP_TIMEOUT=5,
        AWARD_MAIL_SWEEP_SECONDS=1,
    )
    with app.app_context():
        [message_id] = enqueue_plain(1, "reload")
        # Its first attempt failed in the process that was reloaded: due again in a second.
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                attempts=1, last_error="Cannot reach the SMTP server", next_attempt_at=utcnow() + timedelta(seconds=1)
            )
        )
        db.session.commit()
        db.session.remove()
    try:
        # The new process serves (a health check: no database, no mail).
        assert app.test_client().get("/healthz").status_code == 200
        with app.app_context():
            assert wait_until(lambda: statuses([message_id])[message_id][0] == "sent", timeout=8), statuses(
                [message_id]
            )
            assert statuses([message_id])[message_id] == ("sent", 2)
        assert list(message_ids(slow_smtp).values()) == [1]
    finally:
        mail.shutdown(app)


# ------------------------------------------------------------------ a sender killed mid-batch


def _mail_send_process(db_url: str, smtp_port: int, instance: str) -> subprocess.Popen:
    """``flask mail send`` in a process of its own (the sweep as cron runs it)."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SECRET_KEY": "test-secret-key",
        "AWARD_INSTANCE_PATH": instance,
        "AWARD_BASE_URL": "http://award.test",
        "AWARD_SMTP_HOST": "127.0.0.1",
        "AWARD_SMTP_PORT": str(smtp_port),
        "AWARD_SMTP_TIMEOUT": "10",
        "AWARD_MAIL_GIVE_WAY_CPU": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "award_service", "mail", "send"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_a_sender_killed_mid_batch_sends_again_only_the_message_in_flight(make_app, slow_smtp, db_url, tmp_path):
    """SIGKILL while the server holds the third message of a batch: the first two
    were marked sent when the server took them; after the lease the third is
    sent again under the same Message-ID, and nothing else twice."""
    app = make_app(AWARD_SMTP_HOST="127.0.0.1", AWARD_SMTP_PORT=slow_smtp.port, AWARD_MAIL_SWEEP_SECONDS=0)
    slow_smtp.recorder.delay = 0.4
    third = threading.Event()
    slow_smtp.recorder.on_data = lambda n: third.set() if n >= 3 else None
    with app.app_context():
        ids = enqueue_plain(6, "batch")
        sender = _mail_send_process(db_url, slow_smtp.port, str(tmp_path))
        try:
            assert third.wait(30), sender.communicate(timeout=5)[0]
            os.kill(sender.pid, signal.SIGKILL)  # the server holds the third, not yet answered
            sender.wait(10)
        finally:
            if sender.poll() is None:
                sender.kill()
                sender.wait(10)
            sender.stdout.close()
        slow_smtp.recorder.delay = 0
        left = statuses(ids)
        assert [left[i] for i in ids[:2]] == [("sent", 1)] * 2, left  # marked as soon as the server took them

        # After the lease another sender (the sweep) takes over what the dead one held.
        lease = sending.lease(app.config)
        counts = sending.send_due(db.session, now=utcnow() + lease + timedelta(seconds=1))
        assert counts["sent"] == 4, counts  # the third (again) and the three never tried
        assert all(status == "sent" for status, _ in statuses(ids).values()), statuses(ids)

    received = message_ids(slow_smtp)
    expected = {f"<outbox.{i}." for i in ids}
    assert {m.split(".", 2)[0] + "." + m.split(".", 2)[1] + "." for m in received} == expected
    twice = [m for m, n in received.items() if n > 1]
    assert len(twice) == 1 and twice[0].startswith(f"<outbox.{ids[2]}."), received  # only the one in flight
    assert received[twice[0]] == 2


# ------------------------------------------------------------------ the mark refused for a while


class TableLock:
    """Another session holding the outbox table so the app cannot write it: an
    exclusive transaction on SQLite, ``LOCK TABLE`` on PostgreSQL.  Taken at
    once (from the SMTP server's thread, at the moment it takes a message),
    released ``seconds`` later."""

    def __init__(self, url: str):
        self.url = url
        self.released = threading.Event()
        self.timer: threading.Timer | None = None

    def hold(self, seconds: float) -> None:
        if self.url.startswith("sqlite"):
            import sqlite3

            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
            conn.execute("BEGIN EXCLUSIVE")
        else:
            import psycopg

            conn = psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"))
            conn.execute("LOCK TABLE outbox_messages IN ACCESS EXCLUSIVE MODE")

        def release():
            conn.rollback()
            conn.close()
            self.released.set()

        self.timer = threading.Timer(seconds, release)
        self.timer.start()

    def wait_released(self) -> None:
        assert self.released.wait(30)


@pytest.fixture
def impatient_app(make_app, slow_smtp, database):
    """The app gives up on a locked table at once (SQLite's busy timeout, PostgreSQL's
    lock_timeout: 0.1 s) instead of waiting, as it would for a database that is away."""

    def factory(**config):
        connect = {"timeout": 0.1} if database["kind"] == "sqlite" else {"options": "-c lock_timeout=100"}
        return make_app(
            AWARD_SMTP_HOST="127.0.0.1",
            AWARD_SMTP_PORT=slow_smtp.port,
            AWARD_SMTP_TIMEOUT=5,
            AWARD_MAIL_SWEEP_SECONDS=0,
            SQLALCHEMY_ENGINE_OPTIONS={"connect_args": connect},
            **config,
        )

    return factory


def test_a_mark_refused_for_a_moment_is_tried_again_and_nothing_is_sent_twice(impatient_app, slow_smtp, db_url):
    app = impatient_app(AWARD_MAIL_MARK_RETRY_DELAYS=(0.1, 0.25, 0.5, 1.0, 2.0))
    lock = TableLock(db_url)
    slow_smtp.recorder.on_data = lambda n: lock.hold(1.0) if n == 2 else None
    with app.app_context():
        ids = enqueue_plain(4, "locked")
        counts = sending.deliver(db.session, ids)
        lock.wait_released()
        assert counts == {"sent": 4}
        assert statuses(ids) == dict.fromkeys(ids, ("sent", 1))
        assert len(sending.unmarked_of(app)) == 0
        db.session.remove()
    assert sorted(message_ids(slow_smtp).values()) == [1, 1, 1, 1]


def test_a_mark_refused_for_long_is_written_later_and_the_message_not_sent_again(
    impatient_app, slow_smtp, db_url, make_app
):
    """The database stays away longer than the mark's retries: the message the
    server took is kept by the process and marked by its next delivery; the
    rest of the batch waits for its lease.  Only a process that dies before it
    can write the mark leaves the message to be sent again, under the same
    Message-ID."""
    app = impatient_app(AWARD_MAIL_MARK_RETRY_DELAYS=(0.1, 0.2), AWARD_MAIL_LEASE_SECONDS=60)
    lock = TableLock(db_url)
    slow_smtp.recorder.on_data = lambda n: lock.hold(2.0) if n == 2 else None
    with app.app_context():
        ids = enqueue_plain(4, "away")
        counts = sending.deliver(db.session, ids)
        assert counts == {"sent": 2, "skipped": 2}  # the batch stopped after the second
        assert len(sending.unmarked_of(app)) == 1
        lock.wait_released()
        assert statuses(ids) == {
            ids[0]: ("sent", 1),
            ids[1]: ("sending", 1),
            ids[2]: ("sending", 1),
            ids[3]: ("sending", 1),
        }

        # The database is back; the next sweep of this process, after the lease, writes the
        # mark first, then sends the two that were never handed over.
        later = utcnow() + timedelta(seconds=61)
        counts = sending.send_due(db.session, now=later)
        assert counts == {"due": 2, "sent": 2}, counts  # the kept one was marked before the sweep looked
        assert statuses(ids) == dict.fromkeys(ids[:2], ("sent", 1)) | dict.fromkeys(ids[2:], ("sent", 2))
        assert len(sending.unmarked_of(app)) == 0
        db.session.remove()
    assert sorted(message_ids(slow_smtp).values()) == [1, 1, 1, 1]

    # The same, but the process dies before the database comes back: its
    # memory is lost, so after the lease the message goes out again -- once,
    # under the same Message-ID.
    slow_smtp.recorder.received.clear()
    died = impatient_app(AWARD_MAIL_MARK_RETRY_DELAYS=(0.1,), AWARD_MAIL_LEASE_SECONDS=60)
    lock = TableLock(db_url)
    slow_smtp.recorder.on_data = lambda n: lock.hold(1.0) if n == 1 else None
    with died.app_context():
        [lost] = enqueue_plain(1, "died")
        assert sending.deliver(db.session, [lost]) == {"sent": 1}
        lock.wait_released()
        db.session.remove()
    sending.unmarked_of(died).take()  # the process dies: what it kept in memory is gone
    successor = make_app(AWARD_SMTP_HOST="127.0.0.1", AWARD_SMTP_PORT=slow_smtp.port, AWARD_MAIL_SWEEP_SECONDS=0)
    with successor.app_context():
        assert statuses([lost]) == {lost: ("sending", 1)}
        assert sending.send_due(db.session, now=utcnow() + timedelta(seconds=30))["due"] == 0  # its lease holds
        assert sending.send_due(db.session, now=utcnow() + timedelta(seconds=61))["sent"] == 1
        assert statuses([lost]) == {lost: ("sent", 2)}
    [(message_id, count)] = message_ids(slow_smtp).items()
    assert message_id.startswith(f"<outbox.{lost}.") and count == 2


# ------------------------------------------------------------------ the organisers see the backlog


def _backlog_text(page) -> str:
    import html
    import re

    found = re.search(r'<p id="backlog" class="([^"]*)">(.*?)</p>', page.text, re.S)
    assert found, page.text
    return found.group(1), " ".join(html.unescape(found.group(2)).split())


@pytest.mark.parametrize(
    "lang, expected",
    [
        ("en", "3 messages are waiting to be sent; the oldest has waited 7 minutes."),
        ("ru", "3 сообщения ждут отправки; ожидание самого давнего: 7 минут."),
        ("kk", "Жіберуді 3 хат күтуде; ең ұзақ күткені — 7 минут."),
    ],
)
def test_the_mail_page_shows_the_backlog_and_its_oldest_age_in_words(app, make_user, client, login, lang, expected):
    ids = enqueue_plain(4, "waiting")
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == ids[0]).values(created_at=utcnow() - timedelta(minutes=7))
    )
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[1]).values(status="sending"))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[3]).values(status="failed", attempts=1))
    db.session.commit()
    login(make_user("organiser"))
    with client.session_transaction() as session:
        session["lang"] = lang

    css, words = _backlog_text(client.get("/staff/mail/"))
    assert words == expected and css == "flash"  # queued and sending wait; the failed one does not

    # Waiting for long (the SMTP server or the sender is down): said as a warning, with what to check.
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == ids[0]).values(created_at=utcnow() - timedelta(hours=3))
    )
    db.session.commit()
    css, words = _backlog_text(client.get("/staff/mail/"))
    assert css == "flash flash-error" and "SMTP" in words
    assert {"en": "3 hours", "ru": "3 часа", "kk": "3 сағат"}[lang] in words

    db.session.execute(update(OutboxMessage).values(status="sent", sent_at=utcnow(), subject="x", body_text="x"))
    db.session.commit()
    css, words = _backlog_text(client.get("/staff/mail/"))
    assert (
        css == "flash"
        and words
        == {"en": "Nothing is waiting.", "ru": "Ничего не ожидает отправки.", "kk": "Күтіп тұрған хат жоқ."}[lang]
    )


def test_a_district_organiser_sees_the_backlog_of_their_district(app, make_user, client, login):
    ids = enqueue_plain(3, "district")
    zhezkazgan = db.session.scalar(text("SELECT id FROM districts WHERE code = 'zhezkazgan'"))
    karazhal = db.session.scalar(text("SELECT id FROM districts WHERE code = 'karazhal'"))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids[:2])).values(district_id=zhezkazgan))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[2]).values(district_id=karazhal))
    db.session.commit()
    login(make_user("organiser", district="karazhal"))
    with client.session_transaction() as session:
        session["lang"] = "en"
    _css, words = _backlog_text(client.get("/staff/mail/"))
    assert words.startswith("1 message is waiting to be sent;")


def test_the_logs_name_no_recipient_when_the_server_refuses_or_defers_one(make_app, slow_smtp, caplog):
    """SMTP servers name the recipient in their answers; the row keeps the answer
    for the organisers, the logs only the message's id."""
    app = make_app(AWARD_SMTP_HOST="127.0.0.1", AWARD_SMTP_PORT=slow_smtp.port, AWARD_MAIL_SWEEP_SECONDS=0)
    slow_smtp.recorder.rejected.add("refused0@example.kz")
    caplog.set_level("INFO", logger="award_service.mail")
    with app.app_context():
        [refused] = enqueue_plain(1, "refused")
        assert sending.deliver(db.session, [refused]) == {"failed": 1}
        assert "refused0@example.kz" in db.session.get(OutboxMessage, refused).last_error
        slow_smtp.stop()
        [deferred] = enqueue_plain(1, "deferred")
        assert sending.deliver(db.session, [deferred]) == {"queued": 1}
        slow_smtp.start()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"outbox message {refused} failed: The server refused the recipient: 550" in logged
    assert f"outbox message {deferred}: attempt 1 failed" in logged
    assert "@example.kz" not in logged


# ------------------------------------------------------------------ the timer's thread


def test_timers_of_several_serving_processes_send_each_due_message_once(make_app, slow_smtp):
    """Every gunicorn worker sweeps on its own timer; their sweeps race for the
    same due messages and the atomic claim gives each message to one of them."""
    config = {"AWARD_SMTP_HOST": "127.0.0.1", "AWARD_SMTP_PORT": slow_smtp.port, "AWARD_MAIL_SWEEP_SECONDS": 0.5}
    apps = [make_app(**config) for _ in range(3)]  # three processes' worth of apps on one database
    with apps[0].app_context():
        ids = enqueue_plain(40, "race")
        db.session.remove()
    try:
        assert all(mail.serve(app) for app in apps)
        assert all(mail.serve(app) for app in apps)  # idempotent: still one thread each
        threads = [app.extensions["award_mail"]._sender.thread for app in apps]
        assert len({id(t) for t in threads}) == 3 and all(t.is_alive() for t in threads)
        with apps[0].app_context():
            assert wait_until(lambda: all(s == "sent" for s, _ in statuses(ids).values()), timeout=20), statuses(ids)
            db.session.remove()
    finally:
        for app in apps:
            mail.shutdown(app)
    received = message_ids(slow_smtp)
    assert len(received) == 40 and set(received.values()) == {1}


def test_a_serving_process_stops_its_timer_at_once_and_leaves_no_connection(make_app, slow_smtp):
    """Stopping (gunicorn's worker_exit; a test's end) ends the resident thread
    promptly, and the engine disposed after it has nothing left open (the
    ResourceWarning filter for a leaked connection is gone from pyproject.toml)."""
    app = make_app(AWARD_SMTP_HOST="127.0.0.1", AWARD_SMTP_PORT=slow_smtp.port, AWARD_MAIL_SWEEP_SECONDS=1)
    assert app.test_client().get("/healthz").status_code == 200  # the first request starts the timer
    sender = app.extensions["award_mail"]._sender
    assert sender is not None and sender.resident and sender.thread.is_alive()
    with app.app_context():
        enqueue_plain(3, "stop")  # handed to nobody: the timer sends them
        assert wait_until(lambda: len(message_ids(slow_smtp)) == 3, timeout=10)
        db.session.remove()
    sender.submit([10**6])  # an id with no row, left in the queue
    started = time.monotonic()
    mail.shutdown(app)
    mail.flush(app, timeout=30)  # returns at once: stopped
    assert time.monotonic() - started < 5
    assert sender.thread is None or not sender.thread.is_alive()
    assert mail.serve(app) is False  # stopped for good
    with app.app_context():
        db.engine.dispose()
    import gc

    gc.collect()  # a connection left open would warn here (warnings are errors)


def test_no_timer_with_a_broker_or_when_switched_off(make_app):
    assert mail.serve(make_app(AWARD_MAIL_SWEEP_SECONDS=0)) is False
    with_broker = make_app(AWARD_MAIL_SWEEP_SECONDS=1, AWARD_CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    assert mail.serve(with_broker) is False  # the worker and beat sweep
    assert with_broker.extensions["award_mail"]._sender is None
