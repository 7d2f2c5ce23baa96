"""Logs: ``AWARD_LOG_FORMAT=json`` writes one JSON object per line to stderr.

Every line has ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``pid`` (the
process: which gunicorn worker), ``message`` and, when it was written for a request or for a message a request decided,
``request_id``.  A request's own line (logger ``award_service.request``, one
a request, from :mod:`.observe`) adds ``method``, ``route`` (the URL rule:
``/r/<token>``, never the path or the query, which carry tokens, codes and
searched names), ``status``, ``duration_ms`` and ``user_id`` when a staff
account is logged in.  The mail sender's lines carry the ``request_id`` kept
in the outbox row, in the web process and in the Celery worker alike.

python-json-logger formats the records of the standard ``logging`` module, so
one formatter serves our loggers, gunicorn's (:mod:`.gunicorn_logs`, named by
deploy/gunicorn.conf.py) and Celery's.  As a last guard each line is scrubbed
of anything shaped like an e-mail address, a Kazakh phone number or an IIN (an
SMTP server's refusal quotes the recipient, for one).

The default, ``text``, leaves logging as it was: Python's and gunicorn's
plain lines, warnings and errors only.
"""

from __future__ import annotations

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from .. import telemetry
from ..config import ConfigError

FORMATS = ("text", "json")
REQUEST_LOGGER = "award_service.request"

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# +7 701 234 56 78, 8 (701) 234-56-78, +77012345678: 11 digits from 7 or 8, as people write them.
_PHONE = re.compile(r"(?<![\w+])(?:\+7|8|7)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\w)")
_IIN = re.compile(r"(?<!\w)\d{12}(?!\w)")

request_log = logging.getLogger(REQUEST_LOGGER)


def scrub(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers and IINs replaced by placeholders."""
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    return _IIN.sub("<iin>", _PHONE.sub("<phone>", text))


class JsonLines(JsonFormatter):
    """One JSON object a record, UTF-8 as it is (not \\u-escaped), scrubbed."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger", "process": "pid"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__("%(levelname)s %(name)s %(process)d %(message)s", *args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if record.name == REQUEST_LOGGER:
            return line  # made of the route template, method, status, numbers and a checked id: nothing to scrub
        return scrub(line)


class RequestIdFilter(logging.Filter):
    """Gives a record the id of the request being handled, unless it has one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            current = telemetry.request_id()
            if current is not None:
                record.request_id = current
        return True


def json_handler(stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLines())
    handler.addFilter(RequestIdFilter())
    return handler


def configure_json(level: str | int = "INFO", stream=None) -> logging.Handler:
    """JSON lines from every logger: the root logger's only handler is ours
    (a handler someone set up before -- gunicorn's, Celery's, an earlier app's --
    would write each line twice)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = json_handler(stream)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def init_app(app) -> None:
    fmt = str(app.config.get("AWARD_LOG_FORMAT") or "text").strip().lower()
    if fmt not in FORMATS:
        raise ConfigError(f"AWARD_LOG_FORMAT={fmt!r} is not one of {', '.join(FORMATS)}")
    app.config["AWARD_LOG_FORMAT"] = fmt
    # A database error's text then has no statement parameters (names, phones, e-mails) to reach a log.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        "hide_parameters": True,
    }
    level = str(app.config.get("AWARD_LOG_LEVEL") or "INFO").strip().upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ConfigError(f"AWARD_LOG_LEVEL={level!r} is not a level (DEBUG, INFO, WARNING, ERROR)")
    if fmt != "json":
        return
    configure_json(level)
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)  # the root's JSON handler writes Flask's records too
    if app.config.get("AWARD_CELERY_BROKER_URL"):
        _celery_logs_json(level)


def _celery_logs_json(level: str) -> None:
    """A Celery worker sets up its own plain logging at start unless someone
    answers ``setup_logging``: answer it with ours."""
    from celery.signals import setup_logging

    def keep_json(**kwargs) -> None:
        configure_json(level)

    setup_logging.connect(keep_json, weak=False, dispatch_uid="award_service.ops.logs")


def log_request(request_id: str | None, method: str, route: str, status: int, seconds: float, user_id) -> None:
    """The one line a request writes (at INFO: nothing is built when INFO is off)."""
    if not request_log.isEnabledFor(logging.INFO):
        return
    fields = {
        "request_id": request_id,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
    }
    if user_id is not None:
        fields["user_id"] = user_id
    request_log.info("%s %s %s", method, route, status, extra=fields)
