"""Configuration: defaults, then ``instance/config.py``, then the environment.

The environment wins so that a deployment can override anything the instance
file says.  In development a secret key is generated into ``instance/config.py``
on first run; in production (``AWARD_ENV=production``) the app refuses to
start without one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import click

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(click.ClickException):
    """The configuration cannot run the service.  A ClickException so that every
    ``flask …`` command prints its line ("Error: …") rather than a traceback; the
    WSGI entry point and the Celery worker print it as it is (wsgi.py, worker.py)."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


DEFAULTS = {
    "AWARD_ENV": "development",
    "AWARD_BASE_URL": "http://127.0.0.1:5000",
    "AWARD_TIMEZONE": "Asia/Almaty",
    "AWARD_RATELIMIT_ENABLED": True,
    "AWARD_RATELIMIT_STORAGE_URI": "",
    "AWARD_REDIS_URL": "",
    "AWARD_LOGIN_RATE_LIMIT": "10 per minute",
    "AWARD_REGISTRATION_RATE_LIMIT": "30 per minute",
    "AWARD_VERIFY_RATE_LIMIT": "60 per minute",
    "AWARD_LOST_LINK_RATE_LIMIT": "5 per minute;20 per hour",
    "AWARD_API_MAX_BODY": 64 * 1024,
    "AWARD_PAGE_SIZE": 50,
    "AWARD_PROXY_COUNT": 0,
    "LANGUAGES": ("kk", "ru", "en"),
    "BABEL_DEFAULT_LOCALE": "kk",
    # No pre-ping: it is a round trip before every request's first statement.  A
    # connection the server has closed (a restart) is dropped when the pool lends it,
    # without a round trip (extensions: _drop_closed_connection); one found dead by its
    # statement answers 503 (errors.database_unavailable) and SQLAlchemy replaces the
    # pool's connections; the next request gets a fresh one.  load_config adds, unless
    # set: hide_parameters (no bound values, i.e. personal data, in error messages and
    # logs) and, on PostgreSQL, a connect timeout (a server that does not answer is a
    # 503 in seconds, not a worker stuck until gunicorn kills it).
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    # E-mail (award_service/mail): an outbox table, sent after the commit.
    "AWARD_MAIL_FROM": "",  # "Name <address>"; empty: no-reply@<host of AWARD_BASE_URL>
    "AWARD_SMTP_HOST": "",  # empty: no SMTP server, messages are written as .eml files to AWARD_MAIL_DIR
    "AWARD_SMTP_PORT": 25,
    "AWARD_SMTP_USER": "",
    "AWARD_SMTP_PASSWORD": "",
    "AWARD_SMTP_STARTTLS": False,
    "AWARD_SMTP_SSL": False,
    "AWARD_SMTP_TIMEOUT": 30,
    "AWARD_MAIL_DIR": "",  # empty: <instance>/mail
    "AWARD_MAIL_MAX_ATTEMPTS": 10,
    "AWARD_MAIL_RETRY_SECONDS": 60,  # first back-off, doubled after each failure
    "AWARD_MAIL_RETRY_MAX_SECONDS": 3600,
    # How often due and abandoned messages are swept: without a broker by every serving process
    # (from its start), with one by the worker and by beat; 0: only after commits (tests).
    "AWARD_MAIL_SWEEP_SECONDS": 60,
    "AWARD_MAIL_LEASE_SECONDS": 300,  # a sender holds what it claimed this long; then a sweep takes it over
    # Waits between tries of a "sent" mark the database refused, before it is kept to be written later.
    # Only the tests change it; not read from the environment.
    "AWARD_MAIL_MARK_RETRY_DELAYS": (0.1, 0.25, 0.5, 1.0, 2.0, 4.0),
    # The sender waits while the rest of the machine uses more than this share of its CPU
    # (the web tier in a burst), for at most AWARD_MAIL_GIVE_WAY_SECONDS a busy spell; 0: off.
    "AWARD_MAIL_GIVE_WAY_CPU": 0.6,
    "AWARD_MAIL_GIVE_WAY_SECONDS": 20,
    "AWARD_MAIL_KEEP_DAYS": 30,  # attachments of sent messages are dropped after this many days
    "AWARD_MAIL_REMINDER_HOUR": 10,  # local hour, the day before a ceremony, from which its reminder is sent
    "AWARD_CELERY_BROKER_URL": "",  # e.g. redis://127.0.0.1:6379/0; empty: mail is sent in-process
    # /readyz says "degraded" past these: messages queued or sending, and the age of the oldest (seconds).
    # A burst of registrations queues a few hundred for seconds; a quarter of an hour means mail is not going out.
    "AWARD_READY_OUTBOX_MAX_PENDING": 2000,
    "AWARD_READY_OUTBOX_MAX_AGE_SECONDS": 900,
    # Backups (flask backup …): where `create` writes when no --output is given and `prune` looks;
    # prune deletes those older than KEEP_DAYS but always keeps the KEEP_COUNT newest (at least one).
    "AWARD_BACKUP_DIR": "",
    "AWARD_BACKUP_KEEP_DAYS": 30,
    "AWARD_BACKUP_KEEP_COUNT": 7,
    "AWARD_BACKUP_ENCRYPT_TO": "",  # age recipients (age1…, or a file of them), comma-separated; empty: not encrypted
    "AWARD_BACKUP_LOCK_TIMEOUT": 30,  # seconds a backup or restore waits for tables a running transaction holds
    # Operations (award_service/ops): logs and /metrics.
    "AWARD_LOG_FORMAT": "text",  # json: one JSON object a line on stderr (ops/logs.py)
    "AWARD_LOG_LEVEL": "INFO",  # with json: the lowest level written (INFO: a line a request)
    "AWARD_METRICS_TOKEN": "",  # set: GET /metrics wants "Authorization: Bearer <token>"
    "AWARD_METRICS_ENABLED": True,  # false: no /metrics and no HTTP metrics (bench/observability.py's "off")
    # Password hashing: argon2.PasswordHasher's keyword arguments; empty: argon2-cffi's default cost.
    # Only the tests make it cheap; not read from the environment.
    "AWARD_ARGON2_PARAMS": {},
}

# Variables read from the environment and how to parse them.
ENV_VARS: dict[str, Callable[[str], object]] = {
    "AWARD_ENV": str,
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "AWARD_BASE_URL": str,
    "AWARD_TIMEZONE": str,
    "AWARD_RATELIMIT_ENABLED": _bool,
    "AWARD_RATELIMIT_STORAGE_URI": str,
    "AWARD_REDIS_URL": str,
    "AWARD_LOGIN_RATE_LIMIT": str,
    "AWARD_REGISTRATION_RATE_LIMIT": str,
    "AWARD_VERIFY_RATE_LIMIT": str,
    "AWARD_LOST_LINK_RATE_LIMIT": str,
    "AWARD_API_MAX_BODY": int,
    "SESSION_COOKIE_SECURE": _bool,
    "AWARD_PROXY_COUNT": int,
    "AWARD_MAIL_FROM": str,
    "AWARD_SMTP_HOST": str,
    "AWARD_SMTP_PORT": int,
    "AWARD_SMTP_USER": str,
    "AWARD_SMTP_PASSWORD": str,
    "AWARD_SMTP_STARTTLS": _bool,
    "AWARD_SMTP_SSL": _bool,
    "AWARD_SMTP_TIMEOUT": int,
    "AWARD_MAIL_DIR": str,
    "AWARD_MAIL_MAX_ATTEMPTS": int,
    "AWARD_MAIL_RETRY_SECONDS": int,
    "AWARD_MAIL_RETRY_MAX_SECONDS": int,
    "AWARD_MAIL_SWEEP_SECONDS": float,
    "AWARD_MAIL_LEASE_SECONDS": float,
    "AWARD_MAIL_GIVE_WAY_CPU": float,
    "AWARD_MAIL_GIVE_WAY_SECONDS": float,
    "AWARD_MAIL_KEEP_DAYS": int,
    "AWARD_MAIL_REMINDER_HOUR": int,
    "AWARD_CELERY_BROKER_URL": str,
    "AWARD_READY_OUTBOX_MAX_PENDING": int,
    "AWARD_READY_OUTBOX_MAX_AGE_SECONDS": int,
    "AWARD_BACKUP_DIR": str,
    "AWARD_BACKUP_KEEP_DAYS": int,
    "AWARD_BACKUP_KEEP_COUNT": int,
    "AWARD_BACKUP_ENCRYPT_TO": str,
    "AWARD_BACKUP_LOCK_TIMEOUT": float,
    "AWARD_LOG_FORMAT": str,
    "AWARD_LOG_LEVEL": str,
    "AWARD_METRICS_TOKEN": str,
    "AWARD_METRICS_ENABLED": _bool,
}


def default_instance_path() -> str:
    """Where ``config.py`` and the SQLite file live: AWARD_INSTANCE_PATH, else ./instance."""
    return os.environ.get("AWARD_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")


def load_config(app, overrides: dict | None = None) -> None:
    """Fill ``app.config``; ``overrides`` (tests) win over everything."""
    app.config.from_mapping(DEFAULTS)
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.from_pyfile(str(instance_path / "config.py"), silent=True)
    for name, parse in ENV_VARS.items():
        raw = os.environ.get(name)
        if raw is not None and raw != "":
            try:
                app.config[name] = parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{name}={raw!r} is not valid: {exc}") from exc
    if overrides:
        app.config.update(overrides)

    production = app.config["AWARD_ENV"] == "production"
    if not app.config.get("SECRET_KEY"):
        if production:
            raise ConfigError(
                "SECRET_KEY is not set: set it in the environment or in "
                f"{instance_path / 'config.py'} before starting in production"
            )
        app.config["SECRET_KEY"] = _generate_secret_key(instance_path / "config.py")

    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        url = "sqlite:///" + str(instance_path / "award_service.sqlite3")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    )

    app.config["AWARD_BASE_URL"] = app.config["AWARD_BASE_URL"].rstrip("/")
    if not 0 <= int(app.config["AWARD_MAIL_REMINDER_HOUR"]) <= 23:
        raise ConfigError(
            f"AWARD_MAIL_REMINDER_HOUR={app.config['AWARD_MAIL_REMINDER_HOUR']!r} is not an hour of the day (0 to 23)"
        )
    if production:
        app.config.setdefault("SESSION_COOKIE_SECURE", app.config["AWARD_BASE_URL"].startswith("https:"))

    storage = app.config["AWARD_RATELIMIT_STORAGE_URI"] or app.config["AWARD_REDIS_URL"] or "memory://"
    app.config["RATELIMIT_STORAGE_URI"] = storage
    # Redis away: requests go on, limited by each process's memory (Flask-Limiter rechecks the
    # storage now and then and returns to it), rather than failing.  A request finding Redis
    # down waits at most a second for it, not redis-py's default ten retries.
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    if storage.startswith(("redis", "rediss")):
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            {"socket_connect_timeout": 1, "socket_timeout": 1, "retry": Retry(NoBackoff(), 0)},
        )
    app.config["RATELIMIT_ENABLED"] = app.config["AWARD_RATELIMIT_ENABLED"]
    app.config["RATELIMIT_HEADERS_ENABLED"] = True


# Seconds to wait for a PostgreSQL server to accept a connection (libpq's connect_timeout).
DATABASE_CONNECT_TIMEOUT = 5


def engine_options(url: str, given: dict) -> dict:
    """SQLAlchemy's engine options: those ``given`` (SQLALCHEMY_ENGINE_OPTIONS), plus
    what is not set there: no bound values in error messages and logs; on SQLite,
    waiting for the lock (one writer at a time) rather than failing; on
    PostgreSQL, a bounded wait for the server to accept a connection."""
    options = dict(given)
    options.setdefault("hide_parameters", True)
    connect_args = dict(options.get("connect_args") or {})
    if url.startswith("sqlite"):
        connect_args.setdefault("timeout", 30)
    elif url.startswith("postgresql"):
        connect_args.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    if connect_args:
        options["connect_args"] = connect_args
    return options


def _generate_secret_key(path: Path) -> str:
    """Add a random key to ``instance/config.py`` (development only).

    Several processes may start at once (gunicorn workers): the file is locked,
    re-read, and only the first one writes a key; the others read it.
    """
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        namespace: dict = {}
        exec(compile(fh.read(), str(path), "exec"), namespace)
        if namespace.get("SECRET_KEY"):
            return namespace["SECRET_KEY"]
        key = secrets.token_hex(32)
        fh.write(f"# Generated on first run; keep it secret.\nSECRET_KEY = {key!r}\n")
        return key
