"""What every request goes through: an id, a time, a route, then its metrics
and its log line.

- ``X-Request-ID``: an incoming one of 1-128 characters from
  ``[A-Za-z0-9._-]`` is kept (a proxy's or a client's, so their logs and ours
  join up), otherwise one is made (128 random bits); the response echoes it.
  While the request is handled it is :func:`award_service.telemetry.request_id`:
  log lines carry it and an e-mail decided by the request keeps it in its
  outbox row, so the sender (a thread, or the Celery worker) logs it too.
- After the response is made: ``award_http_requests_total`` and
  ``award_http_request_duration_seconds`` (:mod:`.metrics`; not with
  ``AWARD_METRICS_ENABLED=false``, which also leaves ``/metrics`` out) and the
  request's log line (:mod:`.logs`), both with the URL rule as the route.

``init_app`` is called by the app factory before the extensions, so that
these hooks run first: a request refused by CSRF or a rate limit is timed and
counted as well.  (After-request hooks run in reverse order: ours last, on
the response as it leaves.)
"""

from __future__ import annotations

import time

from flask import Response, g, request

from .. import telemetry
from . import logs, metrics


def init_app(app) -> None:
    logs.init_app(app)
    with_metrics = bool(app.config.get("AWARD_METRICS_ENABLED", True))
    if with_metrics:
        metrics.init_app(app)

    def finish(response: Response) -> Response:
        return _finish(response, with_metrics)

    app.before_request(_begin)
    app.after_request(finish)
    app.teardown_request(_end)


def _begin() -> None:
    rid = telemetry.valid_request_id(request.headers.get("X-Request-ID")) or telemetry.new_request_id()
    g.request_id = rid
    g.pop("api_user", None)  # a test's app context outlives its requests: no user of the last one
    g._observe = (time.perf_counter(), telemetry.set_request_id(rid))


def _finish(response: Response, with_metrics: bool) -> Response:
    started = g.get("_observe")
    if started is None:  # a request our before-hook did not see
        return response
    seconds = time.perf_counter() - started[0]
    rid = g.request_id
    response.headers["X-Request-ID"] = rid
    rule = request.url_rule
    route = rule.rule if rule is not None else metrics.UNMATCHED
    method = request.method if request.method in metrics.METHODS else "OTHER"
    status = response.status_code
    if with_metrics:
        metrics.observe(method, route, status, seconds)
    logs.log_request(rid, method, route, status, seconds, _user_id())
    return response


def _end(exc: BaseException | None) -> None:
    started = g.pop("_observe", None)
    if started is not None:
        telemetry.reset_request_id(started[1])


def _user_id() -> int | None:
    """The staff account of the request, if it was already loaded: an API token's
    user, or the session's (never loaded here just to be logged)."""
    for user in (g.get("api_user"), g.get("_login_user")):
        if user is not None and getattr(user, "is_authenticated", False):
            return getattr(user, "id", None)
    return None
