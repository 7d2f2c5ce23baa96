"""JSON API, /api/v1.  Staff authenticate with bearer tokens only (never the
session cookie), so the blueprint is exempt from CSRF."""

from __future__ import annotations

import json
from functools import wraps

from flask import Blueprint, abort, current_app, g, request
from flask_babel import lazy_gettext as _l

from ..accounts.permissions import can
from ..accounts.service import user_for_token
from ..actor import Actor
from ..errors import DomainError
from ..extensions import db
from ..http import page_args, rollback_quietly
from ..telemetry import LOGIN_FAILURES
from .errors import error_response
from .schemas import PAGE_MAX, PER_PAGE_DEFAULT, PER_PAGE_MAX

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class ApiError(DomainError):
    pass


@bp.before_request
def limit_body():
    request.max_content_length = current_app.config["AWARD_API_MAX_BODY"]
    g.api_user = None


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    rollback_quietly()  # the refusal stands even if the database went away meanwhile
    return error_response(exc.status, exc.code, exc.message, exc.fields, **exc.extra)


def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    user = user_for_token(db.session, token.strip())
    if user is None:
        LOGIN_FAILURES.labels("token").inc()
    return user


def api_actor() -> Actor:
    return Actor(user=g.get("api_user"), client_addr=request.remote_addr)


def staff_required(permission: str):
    """401 without a valid token, 403 without ``permission``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = _authenticate()
            if user is None:
                abort(401)
            g.api_user = user
            if not can(user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator


def optional_staff():
    """The token's user when one is sent and valid, else None (public endpoints)."""
    user = _authenticate()
    g.api_user = user
    return user


def json_body() -> dict:
    """The request's JSON object, or a 4xx that says what is wrong with it."""
    if not request.is_json:
        abort(415)
    raw = request.get_data(cache=True)  # 413 past AWARD_API_MAX_BODY
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DomainError(
            _l("The body is not valid JSON: %(detail)s", detail=str(exc)), code="malformed_json"
        ).with_status(400) from exc
    if not isinstance(body, dict):
        raise DomainError(_l("The body must be a JSON object."), code="malformed_json").with_status(400)
    return body


def list_page() -> tuple[int, int]:
    """``?page=&per_page=`` of an API list, within the API's bounds."""
    return page_args(page_max=PAGE_MAX, per_page_max=PER_PAGE_MAX, per_page_default=PER_PAGE_DEFAULT)


from . import awards, ceremonies, districts, nominations, openapi  # noqa: E402,F401  (routes)
