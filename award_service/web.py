"""The app-wide web layer (above every feature): the login loader, the error
handlers for HTML and the API, security headers, the language switch.  The
helpers blueprints use (access checks, the acting user, the error page) are in
the core, :mod:`award_service.http`."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .accounts.models import User
from .api.errors import DATABASE_UNAVAILABLE, error_response, http_error_response
from .errors import DATABASE_RETRY_AFTER, database_unavailable
from .extensions import db, limiter, login_manager
from .http import ERROR_MESSAGES, allowed, render_error, safe_next
from .states import label as state_label

bp = Blueprint("web", __name__)


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(without_lang(safe_next(request.form.get("next"), url_for("ceremonies.index"))))


def without_lang(url: str) -> str:
    """The page to go back to, without a ``lang=`` that would override the choice just made."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return urlunsplit(parts._replace(query=urlencode(query)))


@bp.route("/healthz")
@limiter.exempt  # a probe, like /readyz (ops.health)
def healthz():
    return {"status": "ok"}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app) -> None:
    app.register_blueprint(bp)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
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

    app.jinja_env.globals["state_label"] = state_label

    @app.context_processor
    def inject():
        return {"can": allowed}

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
        return render_error(
            400, _l("The form expired or was sent from elsewhere. Please go back, reload and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if _wants_json():
            return http_error_response(exc)
        if exc.code == 401:
            return login_manager.unauthorized()
        return render_error(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if database_unavailable(exc):
            return unavailable(exc)
        app.logger.exception("unhandled error")
        db.session.rollback()
        if _wants_json():
            return error_response(500, "internal_error", str(ERROR_MESSAGES[500]))
        return render_error(500)

    def unavailable(exc):
        """The database could not answer (restarting, unreachable, a dead connection):
        503 with Retry-After, never a 500; the pool has dropped its dead connections."""
        app.logger.warning("database unavailable: %s", str(exc).splitlines()[0])
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the session is discarded at teardown
            app.logger.debug("rollback after a lost connection failed", exc_info=True)
        if _wants_json():
            response = error_response(503, DATABASE_UNAVAILABLE, str(ERROR_MESSAGES[503]))
        else:
            body, status = render_error(503)
            response = app.make_response((body, status))
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
