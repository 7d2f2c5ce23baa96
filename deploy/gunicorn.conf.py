"""gunicorn's configuration for the production profile::

    .venv/bin/gunicorn -c deploy/gunicorn.conf.py

Every setting can be overridden from the environment (GUNICORN_* below) or on
the command line.  The service itself is configured by its own variables
(AWARD_*, DATABASE_URL, SECRET_KEY; README "Configuration").
"""

import os

# ---------------------------------------------------------------- serving
wsgi_app = "wsgi:app"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # nginx proxies to it (deploy/nginx)
# Sync workers: a request is mostly database round trips; two a core measured best here.
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * (os.cpu_count() or 1))))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# No --preload: the app factory opens no connection, but workers importing the app
# themselves keep every worker's state its own (GUIDE: gunicorn trap).
preload_app = False


# ---------------------------------------------------------------- mail
# Without a broker each worker sends its own mail and sweeps the outbox on a timer
# (AWARD_MAIL_SWEEP_SECONDS) from its start, after the fork; the master never does.
def post_worker_init(worker):
    from award_service import mail

    mail.serve(worker.wsgi)


# On a graceful stop or reload the worker lets its mail thread finish the message
# in hand; what it had not handed over stays queued for the next sweep.
def worker_exit(server, worker):
    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        from award_service import mail

        mail.shutdown(app, timeout=5.0)
