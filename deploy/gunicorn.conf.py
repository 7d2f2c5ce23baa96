"""gunicorn's configuration for the production profile::

    .venv/bin/gunicorn -c deploy/gunicorn.conf.py

Every setting can be overridden from the environment (GUNICORN_* below) or on
the command line.  The service itself is configured by its own variables
(AWARD_*, DATABASE_URL, SECRET_KEY; README "Configuration").
"""

import os
import sys

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
proc_name = "award-service"
# The workers' heartbeat files on a memory file system: a slow or full disk must not
# make the master think a worker hangs.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or ("/dev/shm" if os.path.isdir("/dev/shm") else None)
# nginx (deploy/nginx) buffers requests and answers, so a sync worker never waits on a
# slow client; it sets X-Forwarded-* and the app trusts one proxy (AWARD_PROXY_COUNT=1).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_line = 8190
# gunicorn 25.1+ opens a control socket (gunicornc) in $XDG_RUNTIME_DIR or ~/.gunicorn, one
# path for every instance on the machine: only where asked (systemd: /run/award-service).
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]


# ------------------------------------------------- metrics and logs (issue 13, items 3 and 4)
# /metrics sums every worker through prometheus_client's multiprocess mode: each
# worker writes its values to files in PROMETHEUS_MULTIPROC_DIR.  prometheus_client
# reads the variable once, when it is imported, so it is set here, as the config
# is loaded and before anything imports it; without one, a folder of this
# server's own (removed when it exits).  A Celery worker given the same folder
# adds its mail counters to the scrape.
import shutil  # noqa: E402  (this section is appended to the deploy settings above)
import tempfile  # noqa: E402

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="award-metrics-", dir=os.environ.get("RUNTIME_DIRECTORY") or os.environ.get("XDG_RUNTIME_DIR") or None
    )
    os.environ["AWARD_METRICS_DIR_MADE"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]  # for on_exit, after reloads too
# Made now: with AWARD_LOG_FORMAT=json the master imports the app's logging, and with it the metrics.
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# AWARD_LOG_FORMAT=json: gunicorn's own lines (its error log) are JSON too.  It
# writes no access log (none is configured): the app logs each request itself,
# with the route template, where gunicorn's access line has the raw path and
# query (ticket tokens, searched names).
if os.environ.get("AWARD_LOG_FORMAT", "").strip().lower() == "json":
    logger_class = "award_service.ops.gunicorn_logs.GunicornLogger"


def on_starting(server):
    """Before the first worker: the metrics folder exists and holds no values
    from the last run (files of processes still running, a Celery worker
    sharing it, stay)."""
    from award_service.telemetry import clear_dead_processes

    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    removed = clear_dead_processes(path)
    server.log.info("metrics: %s (%d files of the last run removed)", path, len(removed))


def child_exit(server, worker):
    """A worker exited: its live gauges go (its counters stay in the sum)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """The folder made above goes with the server (one given in the environment stays)."""
    made = os.environ.get("AWARD_METRICS_DIR_MADE")
    if made and made == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(made, ignore_errors=True)


# A configuration the service cannot run on (AWARD_ENV=production without SECRET_KEY, on
# SQLite, with a weak AWARD_ADMIN_PASSWORD) stops the master here, one line a refusal, before
# any worker is forked (workers failing one by one race gunicorn's own halt into a traceback).
# wsgi.py refuses the same way where this file is not used.
from award_service.ops.production import startup_refusals  # noqa: E402  (after the metrics folder is set)

_refusals = startup_refusals()
if _refusals:
    sys.exit("\n".join(f"award-service refused to start: {line}" for line in _refusals))


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
