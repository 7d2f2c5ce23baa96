"""Seats taken never exceed capacity, whatever the concurrency.

A real HTTP server (threaded) on loopback, many clients released at once by a
barrier, each over its own connection; the database is the run's (SQLite by
default, PostgreSQL in CI — where the guarantee is proven).
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from award_service.ceremonies.models import Ceremony, Registration
from award_service.extensions import db

ATTEMPTS = 120
CAPACITY = 20


def _storm(base_url: str, ceremony_id: int, bodies: list[dict]) -> list[requests.Response]:
    barrier = threading.Barrier(len(bodies))

    def attempt(body):
        with requests.Session() as session:  # its own TCP connection
            barrier.wait(timeout=30)
            return session.post(f"{base_url}/api/v1/ceremonies/{ceremony_id}/registrations", json=body, timeout=120)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(attempt, bodies))


def _body(i: int, companions: int = 0) -> dict:
    return {
        "full_name": f"Қатысушы {i}",
        "email": f"person{i}@example.kz",
        "category": "resident",
        "companions": companions,
        "consent": True,
    }


def _state(app, ceremony_id):
    with app.app_context():
        ceremony = db.session.get(Ceremony, ceremony_id)
        confirmed = db.session.scalar(
            select(func.coalesce(func.sum(Registration.seats), 0)).where(
                Registration.ceremony_id == ceremony_id, Registration.status == "confirmed"
            )
        )
        return ceremony.seats_taken, ceremony.capacity, confirmed


def test_concurrent_registrations_never_overbook(live_server, make_ceremony):
    app, base_url = live_server
    ceremony = make_ceremony(capacity=CAPACITY)
    responses = _storm(base_url, ceremony.id, [_body(i) for i in range(ATTEMPTS)])
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: CAPACITY, 409: ATTEMPTS - CAPACITY}, statuses
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"ceremony_full"}
    assert _state(app, ceremony.id) == (CAPACITY, CAPACITY, CAPACITY)


def test_concurrent_groups_and_cancellations_never_overbook(live_server, make_ceremony):
    """Groups of 1–4 seats race for 20 seats while earlier registrants cancel."""
    app, base_url = live_server
    ceremony = make_ceremony(capacity=CAPACITY)
    early = [
        requests.post(
            f"{base_url}/api/v1/ceremonies/{ceremony.id}/registrations", json=_body(1000 + i, 1), timeout=30
        ).json()
        for i in range(5)
    ]
    assert all(r.get("status") == "confirmed" for r in early)  # 10 seats taken

    barrier = threading.Barrier(ATTEMPTS + len(early))

    def register(i):
        barrier.wait(timeout=30)
        return requests.post(
            f"{base_url}/api/v1/ceremonies/{ceremony.id}/registrations", json=_body(i, i % 4), timeout=120
        )

    def cancel(token):
        barrier.wait(timeout=30)
        return requests.post(f"{base_url}/api/v1/registrations/{token}/cancel", timeout=120)

    with ThreadPoolExecutor(max_workers=ATTEMPTS + len(early)) as pool:
        futures = [pool.submit(register, i) for i in range(ATTEMPTS)]
        futures += [pool.submit(cancel, r["token"]) for r in early]
        responses = [f.result() for f in futures]
    assert all(r.status_code in (200, 201, 409) for r in responses), Counter(r.status_code for r in responses)
    assert sum(1 for r in responses[ATTEMPTS:] if r.status_code == 200) == len(early)
    seats_taken, capacity, confirmed_seats = _state(app, ceremony.id)
    assert seats_taken == confirmed_seats <= capacity
    won = sum(r.json()["seats"] for r in responses[:ATTEMPTS] if r.status_code == 201)
    assert won == seats_taken  # the early registrants all cancelled


def test_postgresql_proof_runs_here(require_postgres, database):
    """Marks the run: the two tests above ran against PostgreSQL."""
    assert database["kind"] == "postgresql"
