"""E-mail through an outbox: decided inside a transaction, sent after it commits.

- :mod:`.registry` -- the kinds of message, each registered by the feature
  that owns it (``ceremonies/messages.py``, ``nominations/messages.py``) with
  its label and composer; the periodic jobs that queue messages;
- :mod:`.outbox` -- the table's operations: enqueue, claim, send, back-off, sweep, retry;
- :mod:`.dispatch` -- after a commit: a thread of this process, or Celery;
  the timer sweep of a serving process (:func:`serve`);
- :mod:`.transport` -- SMTP, or .eml files when no SMTP server is configured;
- :mod:`.views` -- the organisers' page ``/staff/mail/``.

``init_app`` is called by the app factory.  A serving process calls
:func:`serve` when it starts (gunicorn's ``post_worker_init`` in
deploy/gunicorn.conf.py; any other server at its first request); its last act
is :func:`shutdown` (``worker_exit``).  Tests (and scripts that must not exit
before their mail is sent) call :func:`flush`.
"""

from __future__ import annotations

import logging
import os

from flask import Flask, current_app

from ..extensions import db
from .dispatch import (  # also listens for commits: ids enqueued go out after them
    InProcessSender,
    Publisher,
    serve,
)
from .sending import Unmarked, write_unmarked
from .views import bp

__all__ = ["MailState", "flush", "init_app", "serve", "shutdown"]
log = logging.getLogger(__name__)


class MailState:
    """What the mail feature keeps per app: the in-process sender, the Celery
    app (when a broker is configured), the plain-text template environment."""

    def __init__(self, app: Flask):
        self.app = app
        self._sender = None
        self._publisher = None
        self.celery = None
        self.text_env = None
        self.unmarked = Unmarked()  # accepted by the SMTP server, the mark still to be written
        self.serving_pid: int | None = None  # the process that called serve()

    def sender(self):
        if self._sender is None:
            self._sender = InProcessSender(self.app)
        return self._sender

    def publisher(self):
        if self._publisher is None:
            self._publisher = Publisher(self.app)
        return self._publisher

    def handovers(self):
        """The publishing and sending threads' owners made so far in this process."""
        return [h for h in (self._publisher, self._sender) if h is not None]


def init_app(app: Flask) -> None:
    state = app.extensions["award_mail"] = MailState(app)
    app.register_blueprint(bp)

    @app.before_request
    def _serving() -> None:
        """A server that did not call :func:`serve` when the process started
        (``flask run``, gunicorn without deploy/gunicorn.conf.py): its first
        request does.  One comparison a request after that."""
        if state.serving_pid != os.getpid():
            state.serving_pid = os.getpid()
            serve(app)


def flush(app: Flask | None = None, timeout: float = 30.0) -> None:
    """Wait until the messages committed so far have been tried once by this
    process's sender, or (with a broker) handed to it for a worker to send."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]  # LocalProxy
    for handover in app.extensions["award_mail"].handovers():
        handover.flush(timeout)


def shutdown(app: Flask | None = None, timeout: float = 10.0) -> None:
    """Stop this app's sending and publishing threads (a worker leaving; tests:
    before the database goes away), and write the marks of messages sent but
    not yet marked, if the database takes them now."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]  # LocalProxy
    state = app.extensions["award_mail"]
    for handover in state.handovers():
        handover.stop(timeout)
    if len(state.unmarked):
        with app.app_context():
            try:
                write_unmarked(db.session, app)
            except Exception:
                log.exception("outbox: marks of sent messages could not be written at shutdown")
            finally:
                db.session.remove()
