"""Celery: the app that sends mail when a broker is configured.

One Celery app per Flask app, made by :func:`celery_for`; the worker process
(``award_service/worker.py``) and a web process that only publishes tasks
build it the same way.  Every task runs inside the Flask app context, with its
own database session, removed afterwards.

Retries are the outbox's, not Celery's: a failed attempt writes its back-off
into the row, and the sweep sends what is due.  So a message is never lost
with a task (worker restarted, broker flushed), and no long countdowns sit in
Redis (whose visibility timeout would deliver them twice).

The sweep (the task ``send_due``) is started every AWARD_MAIL_SWEEP_SECONDS
twice over: by the beat entry ``send-due-mail``, and by each worker itself
(``SweepTimer``, a step of its consumer that publishes the task on the
consumer's timer, from the worker's start), so mail whose hand-over was lost
(Redis down) or whose sender died still goes out when beat is not running.
Sweeps racing are harmless: the claim gives each message to one of them.

Publishing is bounded: a web process whose Redis is down tries to connect for
at most ``broker_connection_timeout`` seconds, a few times, then leaves the
message queued for the sweep (and it publishes from a thread of its own, so
the request that committed never waits for it).
"""

from __future__ import annotations

import logging
import os

from celery import Celery, Task, bootsteps
from celery.schedules import crontab

from ..extensions import db
from . import outbox, registry, sending

SEND_MESSAGE = "award_service.mail.send_message"  # one id (kept for tasks published by older releases)
SEND_MESSAGES = "award_service.mail.send_messages"  # the ids of one or more commits
SEND_DUE = "award_service.mail.send_due"
REMINDERS = "award_service.mail.enqueue_reminders"
PURGE = "award_service.mail.purge_attachments"

log = logging.getLogger(__name__)


def celery_for(app) -> Celery:
    state = app.extensions["award_mail"]
    if state.celery is None:
        state.celery = make_celery(app)
    return state.celery


def make_celery(app) -> Celery:
    """Tasks are bound to this Celery app only (``shared=False``): a shared task
    would be added to every Celery app made later in the process, running with
    the first Flask app (tests make many)."""
    broker = app.config["AWARD_CELERY_BROKER_URL"]

    class AppTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    sweep_every = float(app.config.get("AWARD_MAIL_SWEEP_SECONDS") or 0)
    celery: Celery = Celery(app.import_name, broker=broker, backend=broker, task_cls=AppTask, set_as_current=False)
    celery.conf.update(
        task_ignore_result=True,
        task_acks_late=True,  # a task of a worker killed mid-send is delivered again (the claim keeps it single)
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Publishing after a commit must not wait long when Redis is down: a connection
        # attempt of at most 2 s, a few quick tries, then the sweep sends the message.
        broker_connection_timeout=2,
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5},
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        timezone="UTC",
        beat_schedule_filename=os.path.join(app.instance_path, "celerybeat-schedule"),
        beat_schedule={
            "send-due-mail": {"task": SEND_DUE, "schedule": sweep_every or 60.0},
            "ceremony-reminders": {"task": REMINDERS, "schedule": crontab(minute=0)},
            "purge-mail-attachments": {"task": PURGE, "schedule": crontab(minute=30, hour=3)},
        },
    )

    @celery.task(name=SEND_MESSAGE, shared=False)
    def send_message(message_id: int) -> str | None:
        counts = sending.deliver(db.session, [message_id])
        return next(iter(counts), None)

    @celery.task(name=SEND_MESSAGES, shared=False)
    def send_messages(message_ids: list[int]) -> dict:
        return sending.deliver(db.session, [int(i) for i in message_ids])

    @celery.task(name=SEND_DUE, shared=False)
    def send_due() -> dict:
        return sending.send_due(db.session)

    @celery.task(name=REMINDERS, shared=False)
    def enqueue_reminders() -> int:
        count = registry.run_job("reminders", db.session)
        db.session.commit()  # the after-commit hook hands the reminders to send_messages
        return count

    @celery.task(name=PURGE, shared=False)
    def purge_attachments() -> int:
        return outbox.purge_attachments(db.session)

    if sweep_every:
        celery.steps["consumer"].add(_sweep_timer(sweep_every))
    return celery


def _sweep_timer(every: float) -> type[bootsteps.StartStopStep]:
    class SweepTimer(bootsteps.StartStopStep):
        """The worker's own sweep: a step of its consumer that publishes
        ``send_due`` when the consumer starts (the worker's start, a reconnection
        to the broker) and then every ``every`` seconds, on the consumer's own
        timer (the event loop's: no thread of ours in the main process, which
        the prefork pool forks its children from).  A process of the pool runs
        the task, like any other: the main process touches no database."""

        label = "award-mail-sweep"
        requires = ("celery.worker.consumer.tasks:Tasks",)

        def __init__(self, c, **kwargs):
            super().__init__(c, **kwargs)
            self.tref = None

        def start(self, c):
            self._publish(c)
            self.tref = c.timer.call_repeatedly(every, self._publish, (c,), priority=10)

        def stop(self, c):
            if self.tref is not None:
                self.tref.cancel()
                self.tref = None

        shutdown = stop

        @staticmethod
        def _publish(c) -> None:
            try:
                c.app.send_task(SEND_DUE)
            except Exception as exc:  # the broker went away: the consumer reconnects, and starts this again
                log.warning("could not publish the outbox sweep: %s", exc)

    return SweepTimer
