"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``.

The app factory opens no database connection, so workers forked by gunicorn
(with or without --preload) each open their own.

A configuration that cannot run the service (``AWARD_ENV=production`` without a
secret key, on SQLite, ...) is said in one line per refusal, not a traceback,
and stops gunicorn: it is raised as gunicorn's ``AppImportError``, which its
master answers by printing the message and halting ("App failed to load")
instead of starting new workers that would fail the same way.
"""

from gunicorn.errors import AppImportError

from award_service import create_app
from award_service.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    raise AppImportError(
        "\n".join(f"award-service refused to start: {line}" for line in exc.message.splitlines())
    ) from None
