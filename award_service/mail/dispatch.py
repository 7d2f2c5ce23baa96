"""After a commit: who sends the messages it enqueued; and the timer sweep.

With a broker (AWARD_CELERY_BROKER_URL) a thread of this process hands the ids
to the Celery task ``send_messages`` and a worker sends them: the request that
committed does not wait for Redis (a publish costs about 1 ms of CPU), and
under load one task carries the ids of many commits.  Without a broker, a
thread of this process sends them itself (the request does not wait for the
SMTP server either).  Either way the outbox row is the truth: if the broker
cannot be reached or the process stops before handing over or sending, the
message stays queued and the next sweep sends it.

The sweep runs on a timer in every arrangement, every AWARD_MAIL_SWEEP_SECONDS:
without a broker in each serving process from its start (:func:`serve`:
gunicorn's ``post_worker_init`` hook, after the fork, never in the master; any
other server at its first request), not from its first commit with mail, so a
message whose attempt failed before a reload or a crash is retried by the next
process without waiting for new mail; with a broker by the worker itself and by
Celery beat (:mod:`.tasks`).  Sweeps of several processes race for the same
rows harmlessly: the claim is one conditional UPDATE, so each message goes to
one of them.
"""

from __future__ import annotations

import logging
import os
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

# A thread with nothing to do and no timer to keep ends after this long idle.
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
    works it off, started by the first :meth:`submit` after it ended.  A
    ``None`` in the queue only wakes the thread (to stop)."""

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
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        """Start the thread if it is not running (the caller holds the lock)."""
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._run, name=self.THREAD_NAME, daemon=True)
            self.thread.start()

    def _alive(self) -> bool:
        thread = self.thread
        return thread is not None and thread.is_alive()

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every id handed over has been dealt with once (at once
        when stopped: what was not dealt with stays queued for the sweep)."""
        deadline = time.monotonic() + timeout
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks:
                if self.stopping.is_set() and not self._alive():
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self.STILL_BUSY)
                self.queue.all_tasks_done.wait(min(remaining, 0.5))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop for good: the thread finishes what it is doing (a batch of
        messages) and ends; ids handed over and not yet taken stay queued in
        the table for a sweep.  Idempotent."""
        self.stopping.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            self.queue.put(None)  # wake it
            thread.join(timeout)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                return
            self.queue.task_done()

    def _take(self, first: int | None) -> tuple[list[int], int]:
        """``first`` and what else waits in the queue: the ids, and how many items were taken."""
        batch = [] if first is None else [first]
        taken = 1
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                return batch, taken
            taken += 1
            if item is not None:
                batch.append(item)

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

    def _run(self) -> None:
        from .tasks import (  # Celery is loaded only where a broker is configured
            SEND_MESSAGES,
            celery_for,
        )

        task = celery_for(self.app).tasks[SEND_MESSAGES]
        while not self.stopping.is_set():
            try:
                first = self.queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self.lock:
                    if self.queue.empty():
                        self.thread = None
                        return
                continue
            if first is None:  # woken to stop
                self.queue.task_done()
                continue
            # Gather by sleeping, not by waiting on the queue: a thread waiting on
            # the queue is woken (and takes the GIL from the request) for every id.
            self.stopping.wait(self.LINGER)
            batch, taken = [first], 1
            while len(batch) < self.BATCH:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                taken += 1
                if item is not None:
                    batch.append(item)
            try:
                task.delay(batch)
            except Exception:  # the broker is down, …: the sweep will send them
                log.exception(
                    "could not hand %d outbox messages to the broker; they stay queued for the sweep", len(batch)
                )
            finally:
                for _ in range(taken):
                    self.queue.task_done()


class InProcessSender(_Handover):
    """One thread per app and process: it sends what commits hand it and
    sweeps on a timer.

    In a serving process (:meth:`start_sweeping`, called by :func:`serve`) the
    thread lives as long as the process and sweeps at once, then every
    AWARD_MAIL_SWEEP_SECONDS.  Elsewhere (the CLI, tests) it is started by a
    commit with mail, sweeps only while messages it tried wait for a retry,
    and ends when it has nothing left to do.  :meth:`flush` waits until
    everything handed over has been tried (tests, the CLI)."""

    THREAD_NAME = "award-mail-sender"
    STILL_BUSY = "outbox messages are still being sent"

    def __init__(self, app):
        super().__init__(app)
        self.sweep_every = float(app.config.get("AWARD_MAIL_SWEEP_SECONDS") or 0)
        self.resident = False  # a serving process's: sweeps on its timer until stopped
        self.next_sweep: float | None = None  # time.monotonic() of the next sweep; None: no timer
        self.leaving = threading.Event()  # this thread only (quiesce); the next submit starts another
        self.retry_pending = False
        self._watch_engine()

    def start_sweeping(self) -> bool:
        """Sweep now and then every AWARD_MAIL_SWEEP_SECONDS for as long as
        this process serves; False when there is no timer (0) or it was stopped."""
        if not self.sweep_every:
            return False
        with self.lock:
            if self.stopping.is_set():
                return False
            if not self.resident:
                self.resident = True
                self.next_sweep = time.monotonic()  # at once: what is left from before this process
            self._ensure_thread()
        return True

    def _watch_engine(self) -> None:
        """When the app's engine is disposed (the end of a test, a shutdown), let
        the thread finish what it was handed and end: it must not go on using a
        database that is about to be dropped or emptied for the next test.
        (The tests stop it before they dispose the engine, :func:`award_service.mail.shutdown`:
        a connection the thread held across the dispose would be left open.)"""
        with self.app.app_context():
            engine = db.engine
        event.listen(engine, "engine_disposed", lambda _engine: self.quiesce())

    def quiesce(self, timeout: float = 30.0) -> None:
        """Send what was handed over, then end the thread (not waiting for retries:
        the sweep sends those).  The next commit with mail starts a new one."""
        thread = self.thread
        if thread is None or thread is threading.current_thread() or self.stopping.is_set():
            return
        try:
            self.flush(timeout)
        except TimeoutError:
            log.warning("outbox: messages still being sent at quiesce; they stay queued for the sweep")
        self.leaving.set()
        self.queue.put(None)  # wake the thread
        thread.join(timeout)
        self.leaving.clear()

    # -- the thread

    def _run(self) -> None:
        while True:
            if self.stopping.is_set():
                return
            if self._sweep_due():
                self._sweep()
                continue
            try:
                first = self.queue.get(timeout=self._wait())
            except queue.Empty:
                if self._sweep_due():
                    continue
                with self.lock:
                    if self.queue.empty() and self.next_sweep is None and not self.resident:
                        self.thread = None  # nothing to do, no timer: the next commit starts another
                        return
                continue
            batch, taken = self._take(first)
            try:
                if batch:
                    self._deliver(batch)
            finally:
                for _ in range(taken):
                    self.queue.task_done()
            if self.stopping.is_set():
                return
            if self.leaving.is_set():
                with self.lock:
                    self.thread = None
                return

    def _wait(self) -> float:
        if self.next_sweep is None:
            return IDLE_SECONDS
        return max(0.0, self.next_sweep - time.monotonic())

    def _sweep_due(self) -> bool:
        return self.next_sweep is not None and time.monotonic() >= self.next_sweep

    def _schedule(self) -> None:
        """The next sweep: on the timer in a serving process; elsewhere only
        while messages this process tried wait for a retry."""
        if self.sweep_every and (self.resident or self.retry_pending):
            if self.next_sweep is None or self.next_sweep <= time.monotonic():
                self.next_sweep = time.monotonic() + self.sweep_every
        else:
            self.next_sweep = None

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
            log.exception("sending %d outbox messages failed; they stay queued for the sweep", len(ids))
            self.retry_pending = True
        if self.next_sweep is None:
            self._schedule()

    def _sweep(self) -> None:
        try:
            with self.app.app_context():
                try:
                    counts = sending.send_due(db.session)
                    if counts.get("due"):
                        log.info(
                            "outbox sweep: %d due, %d sent, %d to retry, %d failed",
                            counts["due"],
                            counts.get("sent", 0),
                            counts.get("queued", 0),
                            counts.get("failed", 0),
                        )
                    self.retry_pending = sending.waiting_count(db.session) > 0
                finally:
                    db.session.remove()
        except Exception:
            log.exception("the outbox sweep failed; trying again at the next")
            self.retry_pending = True
        self.next_sweep = None
        self._schedule()


def serve(app) -> bool:
    """This process serves requests from now on (a gunicorn worker after its
    fork): without a broker, start the sender's timer sweep.  Idempotent; the
    app factory never calls it, so neither a gunicorn master (``--preload``)
    nor a command of the CLI sweeps.  True when a timer runs."""
    state = getattr(app, "extensions", {}).get("award_mail")
    if state is None:
        return False
    state.serving_pid = os.getpid()
    if app.config.get("AWARD_CELERY_BROKER_URL") or not float(app.config.get("AWARD_MAIL_SWEEP_SECONDS") or 0):
        return False  # the worker and beat sweep; or no timer wanted (tests)
    return state.sender().start_sweeping()


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
