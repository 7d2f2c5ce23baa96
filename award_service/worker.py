"""The Celery worker for outgoing mail::

    AWARD_CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/celery -A award_service.worker worker --loglevel=info
    AWARD_CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/celery -A award_service.worker beat --loglevel=info

The Flask app is built here, once per worker process, with the same
configuration as the web server (instance/config.py, then the environment);
the Celery app is made from it (award_service.mail.tasks).  Celery looks for
an attribute named ``app``, so that name is the Celery app's.
"""

from __future__ import annotations

import sys

from . import create_app
from .config import ConfigError
from .mail.tasks import celery_for

try:
    flask_app = create_app()
except ConfigError as exc:  # one line per refusal, not Celery's traceback of a failed import
    for line in exc.message.splitlines():
        print(f"award-service refused to start: {line}", file=sys.stderr)
    raise SystemExit(1) from None
if not flask_app.config.get("AWARD_CELERY_BROKER_URL"):
    raise RuntimeError("AWARD_CELERY_BROKER_URL is not set: set it (e.g. redis://127.0.0.1:6379/0) to run the worker")
app = celery_for(flask_app)
