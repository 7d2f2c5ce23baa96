"""What every HTML page shares: login, the acting user, errors, languages."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .accounts.permissions import can
from .audit import Actor
from .extensions import db, login_manager

bp = Blueprint("web", __name__)


def actor() -> Actor:
    """The acting person of this request, for services and the audit trail."""
    user = current_user if current_user.is_authenticated else None
    return Actor(user=user, client_addr=request.remote_addr)


def require(permission: str):
    """View decorator: log in first, then hold ``permission`` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator


def check(permission: str, obj=None) -> None:
    """Inside a view: 403 unless the user may act on this object."""
    if not can(current_user, permission, obj):
        abort(403)


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.form.get("next"), url_for("ceremonies.index")))


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


ERROR_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to open this page."),
    404: _l("This page does not exist."),
    405: _l("This action is not allowed here."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Please try again later."),
}


def render_error(status: int, message=None):
    message = message or ERROR_MESSAGES.get(status, ERROR_MESSAGES[400])
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app) -> None:
    app.register_blueprint(bp)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        from .accounts.models import User

        try:
            user = db.session.get(User, int(user_id))
        except (TypeError, ValueError):
            return None
        return user if user is not None and user.active else None

    @app.before_request
    def forget_previous_user():
        # Flask-Login caches the user on g; a request that runs inside an app
        # context already pushed (tests, CLI) must load its own.
        g.pop("_login_user", None)

    @app.context_processor
    def inject():
        return {"can": lambda permission, obj=None: can(current_user, permission, obj)}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        )
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(400, _l("The form expired or was sent from elsewhere. Please go back, reload and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if _wants_json():
            from .api.errors import http_error_response

            return http_error_response(exc)
        if exc.code == 401:
            return login_manager.unauthorized()
        return render_error(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("unhandled error")
        db.session.rollback()
        if _wants_json():
            from .api.errors import error_response

            return error_response(500, "internal_error", str(ERROR_MESSAGES[500]))
        return render_error(500)
