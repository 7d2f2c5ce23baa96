"""What the features record for operations: counters of events, and the id of
the request that caused what is being done.

Core: the features import it (a registration counts itself, the mail sender
logs the request id a message was decided in); the parts that expose it live
in the top layer -- :mod:`award_service.ops.metrics` (``GET /metrics``, the
HTTP metrics and the gauges read from the database at scrape time) and
:mod:`award_service.ops.logs` (JSON lines).

Counters are incremented after the event is committed, where it happens.
Their labels are small fixed sets (a status, a kind of message): never a
person, a name, an address or an id of anyone.  Under gunicorn
``PROMETHEUS_MULTIPROC_DIR`` makes every worker write its values to a file of
that folder and a scrape sums them (deploy/gunicorn.conf.py sets it before the
workers start); without it (``flask run``, tests) the values live in this
process.
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, disable_created_metrics

# No ``*_created`` series beside each counter: they double the scrape for nothing
# (and multiprocess mode has none).
disable_created_metrics()

# The folder of multiprocess mode, as prometheus_client read it when it was
# imported (it decides then, once per process); None: this process's memory.
MULTIPROCESS_DIR: str | None = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None

# Our metrics only (not the client's default process and platform collectors,
# which see one worker): single-process scrapes read this registry.
REGISTRY = CollectorRegistry(auto_describe=True)

REGISTRATIONS = Counter(
    "award_registrations_total",
    "Registrations taken, by outcome (confirmed: a seat; waitlisted) and source (online: the form; api; staff)",
    ["status", "source"],
    registry=REGISTRY,
)
CANCELLATIONS = Counter(
    "award_cancellations_total",
    "Registrations cancelled, by who cancelled (attendee through their link, staff)",
    ["by"],
    registry=REGISTRY,
)
APPROVALS = Counter("award_approvals_total", "Nominations approved (one a nomination)", registry=REGISTRY)
CERTIFICATES_RENDERED = Counter(
    "award_certificates_rendered_total",
    "Certificates rendered into a PDF, by format (a4; card: the A6 card, four a sheet)",
    ["format"],
    registry=REGISTRY,
)
MAIL_SENT = Counter(
    "award_mail_sent_total", "E-mail messages the transport accepted, by kind", ["kind"], registry=REGISTRY
)
MAIL_FAILED = Counter(
    "award_mail_failed_total",
    "E-mail attempts that failed, by kind and outcome (retry: queued again; failed: given up)",
    ["kind", "outcome"],
    registry=REGISTRY,
)
LOGIN_FAILURES = Counter(
    "award_login_failures_total",
    "Refused staff logins, by method (password: the login form; token: a wrong API bearer token)",
    ["method"],
    registry=REGISTRY,
)


def clear_dead_processes(path: str) -> list[str]:
    """Remove from a multiprocess folder the files of processes no longer
    running (``counter_<pid>.db``, ``histogram_<pid>.db``, ``gauge_<mode>_<pid>.db``):
    before gunicorn starts its workers, the last run's values go.  The files
    of live processes stay: a Celery worker sharing the folder keeps its counts.
    Returns the names removed."""
    removed = []
    for name in sorted(os.listdir(path)):
        stem, dot, ext = name.rpartition(".")
        pid = stem.rpartition("_")[2]
        if ext != "db" or not dot or not pid.isdigit():
            continue
        if _running(int(pid)):
            continue
        try:
            os.remove(os.path.join(path, name))
        except FileNotFoundError:
            continue
        removed.append(name)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True


# ------------------------------------------------------------------ request ids

# An incoming X-Request-ID is kept when it is 1-128 of these characters.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("award_request_id", default=None)


def new_request_id() -> str:
    """A fresh id: 128 random bits, as 32 hex digits."""
    return secrets.token_hex(16)


def valid_request_id(value: str | None) -> str | None:
    """``value`` if it may be kept as a request id, else None."""
    return value if value and REQUEST_ID.fullmatch(value) else None


def request_id() -> str | None:
    """The id of the request (or of the request that caused the task or message)
    being handled in this context; None outside one."""
    return _request_id.get()


def set_request_id(value: str | None) -> contextvars.Token[str | None]:
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


@contextmanager
def request_id_bound(value: str | None) -> Iterator[None]:
    """Within the block, :func:`request_id` is ``value`` (a background task
    working for a request: its log lines carry that request's id)."""
    token = _request_id.set(value)
    try:
        yield
    finally:
        _request_id.reset(token)
