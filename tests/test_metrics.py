"""GET /metrics in one process (the test client): the Prometheus text format,
route templates and never raw paths, the bearer token, every domain metric
moving when its event happens, and the database's gauges read at scrape time.

Across gunicorn workers (multiprocess mode): tests/test_observability_gunicorn.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from award_service import mail, telemetry
from award_service.ceremonies import registrations
from award_service.ceremonies.models import Ceremony, Registration
from award_service.extensions import db
from award_service.mail.models import OutboxMessage
from award_service.timeutil import utcnow

from .conftest import PASSWORD, registration_data
from .nomination_factories import *  # noqa: F403  (fixtures: medal, cast, staff_user)
from .nomination_factories import DECREE, advance, nominate
from .test_awards import approved, award_of
from .test_mail_helpers import free_port


def scrape(client, **headers) -> dict[tuple[str, frozenset], float]:
    """Every sample of one scrape, by (name, labels)."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.content_type.startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(client, name: str, action, **labels) -> float:
    """How much ``name{labels}`` grew while ``action`` ran."""
    before = value(scrape(client), name, **labels)
    action()
    return value(scrape(client), name, **labels) - before


# ------------------------------------------------------------------ HTTP metrics


def test_requests_are_counted_by_route_template_never_by_path(client, make_ceremony, system):
    ceremony = make_ceremony()
    registration = registrations.register(db.session, system, ceremony.id, registration_data())
    token = registration.token
    before = scrape(client)
    assert client.get(f"/r/{token}").status_code == 200
    assert client.get(f"/r/{token}?lang=ru&q=Жанболат").status_code == 200
    assert client.get("/no/such/page/zhanbolat@example.kz").status_code == 404
    after = scrape(client)
    route = {"method": "GET", "route": "/r/<token>", "status": "200"}
    assert value(after, "award_http_requests_total", **route) - value(before, "award_http_requests_total", **route) == 2
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, "award_http_requests_total", **unmatched) - value(
        before, "award_http_requests_total", **unmatched
    ) == pytest.approx(1)
    hist = {"method": "GET", "route": "/r/<token>"}
    assert value(after, "award_http_request_duration_seconds_count", **hist) - value(
        before, "award_http_request_duration_seconds_count", **hist
    ) == pytest.approx(2)
    assert value(after, "award_http_request_duration_seconds_sum", **hist) > value(
        before, "award_http_request_duration_seconds_sum", **hist
    )
    text = client.get("/metrics").text
    assert token not in text and "zhanbolat" not in text and "Жанболат" not in text
    assert 'route="/r/<token>"' in text


def test_an_unknown_method_is_one_label_not_a_new_series_each(client):
    response = client.open("/healthz", method="BREW")
    assert response.status_code == 405
    samples = scrape(client)
    assert value(samples, "award_http_requests_total", method="OTHER", route="<unmatched>", status="405") >= 1
    assert not any(dict(labels).get("method") == "BREW" for _, labels in samples)


def test_the_token_guards_metrics_when_set(make_app):
    app = make_app(AWARD_METRICS_TOKEN="s3cret-metrics-token")
    client = app.test_client()
    missing = client.get("/metrics")
    assert missing.status_code == 401  # not a redirect to the login page
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert "award_http_requests_total" not in missing.text
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-toke"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic s3cret-metrics-token"}).status_code == 401
    good = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert good.status_code == 200 and "award_http_requests_total" in good.text


def test_metrics_are_not_rate_limited(make_app):
    app = make_app(AWARD_RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="3 per minute")
    client = app.test_client()
    statuses = {client.get("/metrics").status_code for _ in range(10)}
    assert statuses == {200}
    # The default limit is on: another page is refused past it.
    assert [client.get("/verify").status_code for _ in range(4)][-1] == 429


# ------------------------------------------------------------------ domain counters


def test_registrations_and_cancellations_count_when_they_happen(client, make_ceremony):
    ceremony = make_ceremony(capacity=1, waitlist=True)
    confirmed = {"status": "confirmed", "source": "online"}
    assert (
        moved(
            client,
            "award_registrations_total",
            lambda: client.post(f"/ceremonies/{ceremony.id}", data=registration_data()),
            **confirmed,
        )
        == 1
    )
    waitlisted = {"status": "waitlisted", "source": "online"}
    assert (
        moved(
            client,
            "award_registrations_total",
            lambda: client.post(
                f"/ceremonies/{ceremony.id}", data=registration_data(full_name="Әсел Қасымова", phone="+77017654321")
            ),
            **waitlisted,
        )
        == 1
    )

    def duplicate():  # the same phone again: refused, and counted nowhere
        client.post(f"/ceremonies/{ceremony.id}", data=registration_data(full_name="Басқа Адам"))

    assert moved(client, "award_registrations_total", duplicate, **confirmed) == 0
    assert moved(client, "award_registrations_total", duplicate, **waitlisted) == 0
    token = db.session.scalar(select(Registration.token).where(Registration.status == "confirmed"))
    assert moved(client, "award_cancellations_total", lambda: client.post(f"/r/{token}"), by="attendee") == 1


def test_a_staff_cancellation_is_labelled_staff(client, make_ceremony, make_user, system):
    from award_service.actor import Actor

    ceremony = make_ceremony()
    registration = registrations.register(db.session, system, ceremony.id, registration_data())
    organiser = make_user("organiser")

    def cancel():
        row = db.session.get(Registration, registration.id)
        registrations.cancel_registration(db.session, Actor(user=organiser), row)

    assert moved(client, "award_cancellations_total", cancel, by="staff") == 1


def test_approvals_count_single_and_bulk(client, cast):
    one = nominate(cast.nominator)
    advance(one, "recommended", cast)
    from award_service.nominations import transitions

    from .nomination_factories import actor

    assert (
        moved(
            client,
            "award_approvals_total",
            lambda: transitions.transition(db.session, actor(cast.commission), one, "approve", **DECREE),
        )
        == 1
    )
    two = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(2)]
    assert (
        moved(
            client,
            "award_approvals_total",
            lambda: transitions.bulk_transition(
                db.session, actor(cast.commission), [n.id for n in two], "approve", **DECREE
            ),
        )
        == 2
    )


def test_certificates_rendered_count_each_certificate(client, token_for, cast, make_ceremony):
    award = award_of(approved(cast))
    headers = token_for(cast.clerk)

    def one():
        assert client.get(f"/api/v1/awards/{award.serial}/certificate.pdf", headers=headers).status_code == 200

    assert moved(client, "award_certificates_rendered_total", one, format="a4") == 1
    ceremony = make_ceremony()
    serials = [award.serial, award_of(approved(cast)).serial, award_of(approved(cast)).serial]
    client.post(f"/api/v1/ceremonies/{ceremony.id}/awards", json={"serials": serials}, headers=headers)

    def batch():
        response = client.get(f"/api/v1/awards/batch.pdf?ceremony={ceremony.id}&format=card", headers=headers)
        assert response.status_code == 200 and response.data.startswith(b"%PDF")

    assert moved(client, "award_certificates_rendered_total", batch, format="card") == 3
    bad = client.get(f"/api/v1/awards/{award.serial}/certificate.pdf?format=zhanbolat", headers=headers)
    assert bad.status_code == 422
    assert "zhanbolat" not in client.get("/metrics").text  # a refused format is no label


def test_login_failures_count_passwords_and_tokens(client, make_user):
    user = make_user("organiser")

    def wrong_password():
        assert client.post("/staff/login", data={"email": user.email, "password": "not-it"}).status_code == 401

    assert moved(client, "award_login_failures_total", wrong_password, method="password") == 1

    def right_password():
        assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302

    assert moved(client, "award_login_failures_total", right_password, method="password") == 0

    def wrong_token():
        response = client.get("/api/v1/nominations", headers={"Authorization": "Bearer aws_forged"})
        assert response.status_code == 401

    assert moved(client, "award_login_failures_total", wrong_token, method="token") == 1


def test_mail_sent_and_failed(make_app, make_ceremony, app):
    ceremony = make_ceremony()
    client = app.test_client()

    def register_with_email(email):
        def do():
            response = client.post(
                f"/api/v1/ceremonies/{ceremony.id}/registrations",
                json={"full_name": "Ирина Петрова", "email": email, "category": "family", "consent": True},
            )
            assert response.status_code == 201, response.text
            mail.flush(app)

        return do

    kind = {"kind": "registration_confirmed"}
    assert moved(client, "award_mail_sent_total", register_with_email("irina@example.kz"), **kind) == 1
    # The SMTP server cannot be reached: a temporary failure, queued for a retry; with one attempt allowed, failed.
    for attempts, outcome in ((3, "retry"), (1, "failed")):
        broken = make_app(AWARD_SMTP_HOST="127.0.0.1", AWARD_SMTP_PORT=free_port(), AWARD_MAIL_MAX_ATTEMPTS=attempts)
        broken_client = broken.test_client()
        with broken.app_context():
            ceremony_id = ceremony.id

            def do(broken=broken, broken_client=broken_client, ceremony_id=ceremony_id, outcome=outcome):
                response = broken_client.post(
                    f"/api/v1/ceremonies/{ceremony_id}/registrations",
                    json={
                        "full_name": "Ирина Петрова",
                        "email": f"{outcome}@example.kz",
                        "category": "family",
                        "consent": True,
                    },
                )
                assert response.status_code == 201, response.text
                mail.flush(broken)

            assert moved(broken_client, "award_mail_failed_total", do, outcome=outcome, **kind) == 1
            mail.shutdown(broken)


# ------------------------------------------------------------------ database gauges


def test_seats_nominations_and_outbox_are_read_from_the_database(client, make_ceremony, cast, system):
    upcoming = make_ceremony(capacity=10)
    past = make_ceremony(capacity=7)
    draft = make_ceremony(capacity=9, status="draft")
    db.session.execute(update(Ceremony).where(Ceremony.id == past.id).values(starts_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    registrations.register(db.session, system, upcoming.id, registration_data(companions="2"))
    samples = scrape(client)
    assert value(samples, "award_database_up") == 1
    assert value(samples, "award_ceremony_seats_left", ceremony=str(upcoming.id), district="zhezkazgan") == 7
    shown = {dict(labels).get("ceremony") for name, labels in samples if name == "award_ceremony_seats_left"}
    assert str(past.id) not in shown and str(draft.id) not in shown

    before = value(samples, "award_nominations", status="submitted")
    advance(nominate(cast.nominator), "submitted", cast)
    samples = scrape(client)
    assert value(samples, "award_nominations", status="submitted") == before + 1
    assert ("award_nominations", frozenset({("status", "withdrawn")})) in samples  # every status, zeros too

    db.session.execute(update(OutboxMessage).values(status="sent", sent_at=utcnow(), subject="s", body_text="b"))
    old = utcnow() - timedelta(minutes=10)
    for status in ("queued", "queued", "sending", "failed"):
        db.session.add(
            OutboxMessage(
                kind="registration_confirmed",
                to_address="someone@example.kz",
                language="kk",
                params="{}",
                status=status,
                attempts=0 if status == "queued" else 1,
                next_attempt_at=utcnow() + timedelta(hours=1),
                created_at=old,
                updated_at=old,
            )
        )
    db.session.commit()
    samples = scrape(client)
    assert value(samples, "award_outbox_backlog", status="queued") == 2
    assert value(samples, "award_outbox_backlog", status="sending") == 1
    assert value(samples, "award_outbox_failed") == 1
    assert 590 <= value(samples, "award_outbox_oldest_seconds") <= 900
    assert "someone@example.kz" not in client.get("/metrics").text


def test_a_database_that_cannot_be_read_is_a_zero_not_a_500(make_app):
    # PostgreSQL on a port where nothing listens: the connection is refused at once.
    app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")
    client = app.test_client()
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "award_database_up 0.0" in response.text
    assert "award_http_requests_total" in response.text
    assert "award_ceremony_seats_left" not in response.text


# ------------------------------------------------------------------ multiprocess files


def test_the_last_runs_files_go_and_a_live_process_keeps_its_own(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        dead_pid = int(dead.stdout)
        names = [
            f"counter_{dead_pid}.db",
            f"histogram_{dead_pid}.db",
            f"gauge_livesum_{dead_pid}.db",
            f"counter_{sleeper.pid}.db",
            "notes.txt",
        ]
        for name in names:
            (tmp_path / name).write_bytes(b"x")
        removed = telemetry.clear_dead_processes(str(tmp_path))
        assert sorted(removed) == sorted(names[:3])
        assert sorted(os.listdir(tmp_path)) == sorted([f"counter_{sleeper.pid}.db", "notes.txt"])
    finally:
        sleeper.kill()
        sleeper.wait()


def test_request_ids_kept_or_made(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.9_Z-1"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a.9_Z-1"
    longest = "a" * 128
    assert client.get("/healthz", headers={"X-Request-ID": longest}).headers["X-Request-ID"] == longest
    made = set()
    for bad in ("a" * 129, "", "has space", "zhanbolat@example.kz", "../etc", "a/b"):
        response = client.get("/healthz", headers={"X-Request-ID": bad})
        rid = response.headers["X-Request-ID"]
        assert rid != bad and len(rid) == 32 and all(c in "0123456789abcdef" for c in rid)
        made.add(rid)
    assert len(made) == 6  # a fresh one each time
    none_sent = client.get("/no/such/page").headers["X-Request-ID"]
    assert len(none_sent) == 32 and none_sent not in made


def test_metrics_can_be_switched_off(make_app):
    app = make_app(AWARD_METRICS_ENABLED=False)
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/healthz").headers["X-Request-ID"]  # request ids stay
