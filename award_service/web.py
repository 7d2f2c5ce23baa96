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
from .api.errors import UNAVAILABLE, error_response, http_error_response
from .errors import DATABASE_RETRY_AFTER, database_unavailable
from .extensions import db, limiter, login_manager
from .http import (
    ERROR_MESSAGES,
    allowed,
    discard_session,
    render_error,
    render_unavailable,
    rollback_quietly,
    safe_next,
)
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

    @app.teardown_appcontext
    def close_session(exc):
        """Flask-SQLAlchemy's own teardown (which runs after this one) closes the
        session too, but its rollback of an open transaction raises when the
        connection died meanwhile, and an exception here would turn an answer
        already made (a page read before the database went away) into gunicorn's
        500.  The session is closed here; on a dead connection it is invalidated
        without a rollback and discarded."""
        try:
            db.session.remove()
        except Exception as error:
            if not database_unavailable(error):
                raise
            app.logger.warning("database unavailable at the end of a request: %s", str(error).splitlines()[0])
            discard_session()
            db.session.registry.clear()

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
        return page(400, _l("The form expired or was sent from elsewhere. Please go back, reload and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if _wants_json():
            return http_error_response(exc)
        if exc.code == 401:
            return login_manager.unauthorized()
        return page(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if database_unavailable(exc):
            return unavailable(exc)
        app.logger.exception("unhandled error")
        rollback_quietly()
        if _wants_json():
            return error_response(500, "internal_error", str(ERROR_MESSAGES[500]))
        return page(500)

    def page(status: int, message=None):
        """The error page; the plain "unavailable" page when drawing it needs the
        database (the logged-in user's name in the header) and it cannot answer."""
        try:
            return render_error(status, message)
        except Exception as exc:
            if database_unavailable(exc):
                return unavailable(exc)
            raise

    def unavailable(exc):
        """The database could not answer (stopped, restarting, unreachable, a dead
        connection): 503 with Retry-After, never a 500; the pool has dropped its
        dead connections.  The page is the plain one, drawn without the database:
        the logged-in user is not loaded (nor, after this, by any later hook)."""
        app.logger.warning("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        rollback_quietly()
        g._login_user = login_manager.anonymous_user()  # Flask-Login's cache: current_user is anonymous now
        if _wants_json():
            response = error_response(503, UNAVAILABLE, str(ERROR_MESSAGES[503]))
        else:
            response = app.make_response(render_unavailable())
        response.headers["Retry-After"] = g.retry_after = str(DATABASE_RETRY_AFTER)
        return response

    def keep_retry_after(response):
        """Flask-Limiter's hook (which runs after the app's own) sets Retry-After on
        every answer of a rate-limited route, to the later of its value and the end
        of the limit's window (up to a minute away): a 503 asks again in seconds."""
        if g.get("retry_after") is not None:
            response.headers["Retry-After"] = g.retry_after
        return response

    # after_request hooks run last-registered first: first in the list, this one runs last.
    app.after_request_funcs.setdefault(None, []).insert(0, keep_retry_after)
