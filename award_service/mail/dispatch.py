"""After a commit: who sends the messages it enqueued.

With a broker (AWARD_CELERY_BROKER_URL) a thread of this process hands the ids
to the Celery task ``send_messages`` and a worker sends them: the request that
committed does not wait for Redis (a publish costs about 1 ms of CPU), and
under load one task carries the ids of many commits.  Without a broker, a
thread of this process sends them itself (the request does not wait for the
SMTP server either).  Either way the outbox row is the truth: if the broker
cannot be reached or the process stops before handing over or sending, the
message stays queued and the next sweep (``flask mail send``, the Celery beat
entry, or the sending thread's own periodic sweep) sends it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from . import sending
from .outbox import PENDING

log = logging.getLogger(__name__)

# Without a periodic sweep (AWARD_MAIL_SWEEP_SECONDS = 0) the thread stops after this long idle.
IDLE_SECONDS = 2.0


def dispatch(app, ids) -> None:
    """Called by the ``after_commit`` listener; must not raise into the commit."""
    state = app.extensions.get("award_mail")
    if state is None or not ids:
        return
    try:
        if app.config.get("AWARD_CELERY_BROKER_URL"):
            state.publisher().submit(ids)
        else:
            state.sender().submit(ids)
    except Exception:  # should not happen; the sweep will send them
        log.exception("could not hand over outbox messages %s; they stay queued for the sweep", list(ids))


class _Handover:
    """A queue of committed ids and the one thread per app and process that
    works it off, started by the first :meth:`submit` after it ended."""

    THREAD_NAME = "award-mail"
    STILL_BUSY = "outbox messages are still being handed over"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.Queue[int | None] = queue.Queue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()  # for good (shutdown)

    def submit(self, ids) -> None:
        with self.lock:
            if self.stopping.is_set():
                return  # shut down: the messages stay queued for the sweep
            for message_id in ids:
                self.queue.put(message_id)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name=self.THREAD_NAME, daemon=True)
                self.thread.start()

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every id handed over has been dealt with once."""
        deadline = time.monotonic() + timeout
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self.STILL_BUSY)
                self.queue.all_tasks_done.wait(remaining)

    def _run(self) -> None:
        raise NotImplementedError


class Publisher(_Handover):
    """Hands committed ids to the broker: those of LINGER seconds together, at
    most BATCH to a task; the thread ends when idle.  A publish that fails
    (Redis down) is logged: the sweep sends those messages.  :meth:`flush`
    waits until everything handed over was published (the CLI, before the
    process exits)."""

    THREAD_NAME = "award-mail-publisher"
    STILL_BUSY = "outbox messages are still being handed to the broker"
    BATCH = 100
    # How long the thread gathers ids before it publishes: a sync gunicorn
    # worker commits one request at a time, so without waiting each task
    # would carry one id, and the worker's cost a message is mostly its cost a
    # batch (claim, read, mark: a few round trips; the task itself).  At 60
    # registrations a second a worker, half a second makes tasks of ~30 ids.
    # Nobody notices half a second more before an e-mail.
    LINGER = 0.5

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        from .tasks import (  # Celery is loaded only where a broker is configured
            SEND_MESSAGES,
            celery_for,
        )

        task = celery_for(self.app).tasks[SEND_MESSAGES]
        while not self.stopping.is_set():
            try:
                batch = [self.queue.get(timeout=IDLE_SECONDS)]
            except queue.Empty:
                with self.lock:
                    if self.queue.empty():
                        self.thread = None
                        return
                continue
            # Gather by sleeping, not by waiting on the queue: a thread waiting on
            # the queue is woken (and takes the GIL from the request) for every id.
            self.stopping.wait(self.LINGER)
            while len(batch) < self.BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                task.delay(batch)
            except Exception:  # the broker is down, …: the sweep will send them
                log.exception("could not hand outbox messages %s to the broker; they stay queued for the sweep", batch)
            finally:
                for _ in batch:
                    self.queue.task_done()


class InProcessSender(_Handover):
    """One thread per app and process, started when there is something to send.

    It sends what commits hand it, then, while messages wait for a retry, sweeps
    every AWARD_MAIL_SWEEP_SECONDS; with nothing left to do it ends (and is
    started again by the next commit).  :meth:`flush` waits until everything
    handed over has been tried (tests, the CLI)."""

    THREAD_NAME = "award-mail-sender"
    STILL_BUSY = "outbox messages are still being sent"

    def __init__(self, app):
        super().__init__(app)
        self.leaving = threading.Event()  # this thread only (quiesce); the next submit starts another
        self.retry_pending = False
        self.swept_at_start = False
        self._watch_engine()

    def _watch_engine(self) -> None:
        """When the app's engine is disposed (the end of a test, a shutdown), let
        the thread finish what it was handed and end: it must not go on using a
        database that is about to be dropped or emptied for the next test."""
        with self.app.app_context():
            engine = db.engine
        event.listen(engine, "engine_disposed", lambda _engine: self.quiesce())

    def quiesce(self, timeout: float = 30.0) -> None:
        """Send what was handed over, then end the thread (not waiting for retries:
        the sweep sends those).  The next commit with mail starts a new one."""
        thread = self.thread
        if thread is None or thread is threading.current_thread():
            return
        try:
            self.flush(timeout)
        except TimeoutError:
            log.warning("outbox: messages still being sent at quiesce; they stay queued for the sweep")
        self.leaving.set()
        self.queue.put(None)  # wake the thread
        thread.join(timeout)
        self.leaving.clear()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            self.queue.put(None)
            thread.join(timeout)

    # -- the thread

    def _run(self) -> None:
        sweep_every = float(self.app.config.get("AWARD_MAIL_SWEEP_SECONDS") or 0)
        if sweep_every and not self.swept_at_start:
            # Messages left from before this process started (it stopped, the
            # broker was down): picked up once, after the first commit with mail.
            self.swept_at_start = True
            self._sweep()
        while not self.stopping.is_set():
            wait = sweep_every if (sweep_every and self.retry_pending) else IDLE_SECONDS
            try:
                first = self.queue.get(timeout=wait)
                if first is None:  # woken to leave
                    self.queue.task_done()
                    if self.stopping.is_set() or self.leaving.is_set():
                        with self.lock:
                            self.thread = None
                        return
                    continue
            except queue.Empty:
                if self.stopping.is_set():
                    return
                if sweep_every and self.retry_pending:
                    self._sweep()
                    continue
                with self.lock:
                    if self.queue.empty():
                        self.thread = None
                        return
                continue
            batch, taken, woken = [first], 1, False
            while True:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                taken += 1
                if item is None:
                    woken = True
                else:
                    batch.append(item)
            try:
                self._deliver(batch)
            finally:
                for _ in range(taken):
                    self.queue.task_done()
            if woken and (self.stopping.is_set() or self.leaving.is_set()):
                with self.lock:
                    self.thread = None
                return

    def _deliver(self, ids) -> None:
        try:
            with self.app.app_context():
                try:
                    counts = sending.deliver(db.session, ids)
                    if counts.get("queued") or len(ids) > sum(counts.values()):
                        self.retry_pending = True
                    elif self.retry_pending:
                        self.retry_pending = sending.waiting_count(db.session) > 0
                finally:
                    db.session.remove()
        except Exception:
            log.exception("sending outbox messages %s failed", ids)
            self.retry_pending = True

    def _sweep(self) -> None:
        try:
            with self.app.app_context():
                try:
                    sending.send_due(db.session)
                    self.retry_pending = sending.waiting_count(db.session) > 0
                finally:
                    db.session.remove()
        except Exception:
            log.exception("the outbox sweep failed")


# After a commit, the ids its transaction enqueued (outbox.PENDING) go to the
# sender or the broker; after a rollback they are forgotten.
@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released: the outer transaction has not committed yet
    pending = session.info.pop(PENDING, None)
    if pending:
        app, ids = pending
        dispatch(app, ids)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session) -> None:
    if session.in_nested_transaction():
        # Rolled back to a SAVEPOINT: ids enqueued after it are gone, the others
        # stand; an id without a row is simply not found when sending.
        return
    session.info.pop(PENDING, None)
