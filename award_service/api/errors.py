"""The API's error body: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from flask import jsonify
from flask_babel import lazy_gettext as _l

HTTP_CODES = {
    400: ("bad_request", _l("The request could not be understood.")),
    401: ("unauthorized", _l("Send a valid API token: Authorization: Bearer <token>.")),
    403: ("forbidden", _l("You do not have permission to do this.")),
    404: ("not_found", _l("Not found.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    413: ("payload_too_large", _l("The request body is too large.")),
    415: ("unsupported_media_type", _l("Send the body as JSON with Content-Type: application/json.")),
    429: ("rate_limited", _l("Too many requests. Please wait and try again.")),
}
# 503: the service cannot answer now (its database is restarting or unreachable); the
# client may retry after the Retry-After header's seconds.  The code is pinned (issue 13).
UNAVAILABLE = "unavailable"


def error_response(status: int, code: str, message: str, fields: dict | None = None, **extra):
    body = {"code": code, "message": str(message), "fields": {k: str(v) for k, v in (fields or {}).items()}}
    body.update(extra)
    response = jsonify({"error": body})
    response.status_code = status
    return response


def http_error_response(exc):
    status = exc.code or 500
    code, message = HTTP_CODES.get(status, ("error", exc.description or ""))
    response = error_response(status, code, message)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="award-service"'
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response
