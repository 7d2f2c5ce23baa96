"""What every HTML blueprint needs, below the features: the acting user of the
request, access checks, safe redirects, and the error page.

Access is asked of the logged-in user (``current_user.can``), whose class the
accounts layer defines over its one permission table, so these helpers import
nothing above the core.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from .actor import Actor
from .errors import DomainError, ValidationFailed, database_unavailable
from .extensions import db, login_manager
from .parsing import parse_int

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


def actor() -> Actor:
    """The acting person of this request, for services and the audit trail."""
    user = current_user if current_user.is_authenticated else None
    return Actor(user=user, client_addr=request.remote_addr)


def allowed(permission: str, obj: object = None) -> bool:
    """Whether the logged-in user (if any) holds ``permission`` for ``obj``."""
    return bool(current_user.is_authenticated and current_user.can(permission, obj))


def require(permission: str) -> Callable[[F], F]:
    """View decorator: log in first, then hold ``permission`` (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def check(permission: str, obj: object = None) -> None:
    """Inside a view: 403 unless the user may act on this object."""
    if not allowed(permission, obj):
        abort(403)


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


ERROR_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to open this page."),
    404: _l("This page does not exist."),
    405: _l("This action is not allowed here."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Please try again later."),
    503: _l("The service is briefly unavailable. Please try again in a minute."),
}


def render_error(status: int, message: Any = None) -> tuple[str, int]:
    message = message or ERROR_MESSAGES.get(status, ERROR_MESSAGES[400])
    return render_template("errors/error.html", status=status, message=message), status


def render_unavailable() -> tuple[str, int]:
    """The plain "temporarily unavailable" page (503), in the request's
    language: it needs no database (no logged-in user, no flashed messages).
    The user is not loaded for it, nor by anything after it in this request:
    Flask-Login's cache (``g._login_user``) holds an anonymous user."""
    g._login_user = login_manager.anonymous_user()
    return render_template("errors/unavailable.html", status=503, message=ERROR_MESSAGES[503]), 503


def rollback_quietly() -> None:
    """Undo the request's transaction before answering an error.  When the
    database is what failed, the rollback fails too (the connection is dead):
    the session is discarded instead and the answer goes out; any other
    failure is raised."""
    try:
        db.session.rollback()
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        log.debug("rollback after a lost connection failed; the session is discarded", exc_info=True)
        discard_session()


def discard_session() -> None:
    """Close the request's session without a rollback (which would fail on a
    dead connection): its connection is invalidated, never lent again."""
    try:
        db.session().invalidate()
    except Exception:
        log.debug("invalidating the session's connection failed", exc_info=True)


def refused(exc: DomainError, form: FlaskForm | None = None, prefix: Any = None) -> int:
    """A service refused a form's change: undo the transaction, show why (on the
    form when there is one, else as a flashed message) and give the status to
    answer with."""
    rollback_quietly()
    text = str(exc.message) if not exc.fields else " ".join(map(str, exc.fields.values()))
    if prefix is not None:
        text = f"{prefix} {text}"
    if form is not None:
        form.form_errors.append(text)
    else:
        flash(text, "error")
    return exc.status


def iso(value: Any) -> str | None:
    """A date or time as ISO 8601 for JSON (None stays None)."""
    return value.isoformat() if value is not None else None


def page_args(*, page_max: int, per_page_max: int, per_page_default: int) -> tuple[int, int]:
    """``?page=&per_page=`` of a list, bounded; a 422 names what is wrong."""
    errors: dict[str, Any] = {}
    page = parse_int(request.args.get("page"), field="page", errors=errors, minimum=1, maximum=page_max, default=1)
    per_page = parse_int(
        request.args.get("per_page"),
        field="per_page",
        errors=errors,
        minimum=1,
        maximum=per_page_max,
        default=per_page_default,
    )
    if errors:
        raise ValidationFailed(errors)
    assert page is not None and per_page is not None  # the defaults, or an error above
    return page, per_page
