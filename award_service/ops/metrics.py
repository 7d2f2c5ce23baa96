"""``GET /metrics``: the Prometheus text format, every gunicorn worker summed.

What a scrape shows:

- the HTTP metrics, updated by :mod:`.observe` after every request:
  ``award_http_requests_total{method,route,status}`` and the histogram
  ``award_http_request_duration_seconds{method,route}``.  ``route`` is the URL
  rule (``/r/<token>``), never the path: a path carries tokens, codes and
  searched names.  A request no rule matched counts as ``<unmatched>``, a
  method outside the usual ones as ``OTHER``, so no client can grow the series;
- the counters of events that the features increment
  (:mod:`award_service.telemetry`);
- facts of the database, read at scrape time by :class:`DatabaseCollector`
  (the same whatever worker answers): seats left at upcoming ceremonies,
  nominations by status, the outbox backlog and its oldest message's age.

Under gunicorn every worker writes its values to ``PROMETHEUS_MULTIPROC_DIR``
(deploy/gunicorn.conf.py sets it before the workers start and clears it of the
last run's files) and a scrape sums the files; without it the values are this
process's.  With ``AWARD_METRICS_TOKEN`` set a scrape must send
``Authorization: Bearer <token>`` (compared in constant time) or gets 401.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from flask import Blueprint, Response, current_app, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from .. import telemetry
from ..ceremonies.models import Ceremony
from ..districts.models import District
from ..extensions import db, limiter
from ..mail.models import OutboxMessage
from ..nominations.models import Nomination
from ..nominations.workflow import NominationStatus
from ..timeutil import utcnow

UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Upcoming ceremonies shown one by one, soonest first (a bound on the series).
MAX_CEREMONIES = 200

HTTP_REQUESTS = Counter(
    "award_http_requests_total",
    "HTTP requests answered, by method, route (the URL rule, never the path) and status",
    ["method", "route", "status"],
    registry=telemetry.REGISTRY,
)
HTTP_DURATION = Histogram(
    "award_http_request_duration_seconds",
    "Time to produce the response, by method and route (the URL rule)",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=telemetry.REGISTRY,
)

bp = Blueprint("metrics", __name__)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """One request answered."""
    if method not in METHODS:
        method = "OTHER"
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


@bp.get("/metrics")
@limiter.exempt
def metrics():
    token = current_app.config.get("AWARD_METRICS_TOKEN") or ""
    if token and not _bearer_matches(token):
        # A plain 401 (the app's handler would send a browser to the login page).
        return Response(
            "401 Unauthorized: send Authorization: Bearer <AWARD_METRICS_TOKEN>\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
        )
    body = generate_latest(scrape_registry())
    # The classic text format (0.0.4), which every Prometheus reads; our names need nothing newer.
    return Response(body, status=200, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4, "Cache-Control": "no-store"})


def _bearer_matches(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


def scrape_registry() -> CollectorRegistry:
    """What one scrape reads: every process's files (multiprocess mode) or this
    process's metrics, and the database's facts as they are now."""
    registry = CollectorRegistry(auto_describe=False)
    if telemetry.MULTIPROCESS_DIR:
        MultiProcessCollector(registry, path=telemetry.MULTIPROCESS_DIR)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector())
    return registry


class _ThisProcess:
    """The metrics of this process (no multiprocess folder: ``flask run``, tests)."""

    def collect(self):
        return telemetry.REGISTRY.collect()


class DatabaseCollector:
    """Gauges that are facts of the database, read at each scrape (whatever
    worker answers, they are the same).  ``award_database_up`` is 0 when the
    database could not be read; the other gauges are then left out."""

    def collect(self):
        up = GaugeMetricFamily("award_database_up", "1 when this scrape could read the database, else 0")
        try:
            families = self._read()
        except SQLAlchemyError as exc:
            current_app.logger.warning("metrics: the database could not be read: %s", type(exc).__name__)
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[GaugeMetricFamily]:
        now = utcnow()
        session = db.session
        seats = GaugeMetricFamily(
            "award_ceremony_seats_left",
            f"Seats not yet taken at each upcoming published or closed ceremony (the {MAX_CEREMONIES} soonest)",
            labels=["ceremony", "district"],
        )
        upcoming = session.execute(
            select(Ceremony.id, District.code, Ceremony.capacity - Ceremony.seats_taken)
            .join(District, District.id == Ceremony.district_id)
            .where(Ceremony.status.in_(("published", "closed")), Ceremony.starts_at > now)
            .order_by(Ceremony.starts_at, Ceremony.id)
            .limit(MAX_CEREMONIES)
        ).all()
        for ceremony_id, district, left in upcoming:
            seats.add_metric([str(ceremony_id), district], max(int(left), 0))

        nominations = GaugeMetricFamily("award_nominations", "Nominations by status", labels=["status"])
        counts = dict(session.execute(select(Nomination.status, func.count()).group_by(Nomination.status)).all())
        for status in NominationStatus.values():
            nominations.add_metric([status], counts.get(status, 0))

        backlog = GaugeMetricFamily(
            "award_outbox_backlog", "E-mail messages waiting to be sent (queued) or being sent", labels=["status"]
        )
        oldest = GaugeMetricFamily(
            "award_outbox_oldest_seconds", "Age of the oldest message waiting to be sent (0: none waiting)"
        )
        failed = GaugeMetricFamily(
            "award_outbox_failed", "E-mail messages given up on, waiting for an organiser to retry them"
        )
        rows = {
            status: (count, first)
            for status, count, first in session.execute(
                select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
                .where(OutboxMessage.status.in_(("queued", "sending", "failed")))
                .group_by(OutboxMessage.status)
            ).all()
        }
        session.rollback()  # end the read transaction
        first_waiting = [rows[s][1] for s in ("queued", "sending") if s in rows and rows[s][1] is not None]
        for status in ("queued", "sending"):
            backlog.add_metric([status], rows.get(status, (0, None))[0])
        age = (now - min(first_waiting)) if first_waiting else timedelta(0)
        oldest.add_metric([], max(age.total_seconds(), 0.0))
        failed.add_metric([], rows.get("failed", (0, None))[0])
        return [seats, nominations, backlog, oldest, failed]


def init_app(app) -> None:
    app.register_blueprint(bp)
