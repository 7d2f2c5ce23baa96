"""The waiting list: a full ceremony that keeps one takes registrations as
waitlisted; freed seats go to the first in line who fit; organisers reorder;
under concurrency seats taken never exceed capacity."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from award_service.ceremonies import service, waitlist
from award_service.ceremonies.models import Ceremony, Registration
from award_service.extensions import db

from .conftest import registration_data

_phones = iter(range(1000, 9999))


def person(**extra) -> dict:
    return registration_data(phone=f"+7 701 000 {next(_phones):04d}", **extra)


def api_register(client, ceremony_id, **extra):
    return client.post(f"/api/v1/ceremonies/{ceremony_id}/registrations", json=person(**extra))


def state(registration_id) -> Registration:
    db.session.expire_all()
    return db.session.get(Registration, registration_id)


def seats_taken(ceremony_id) -> int:
    db.session.expire_all()
    return db.session.get(Ceremony, ceremony_id).seats_taken


@pytest.fixture
def full(client, make_ceremony):
    """Capacity 2 with a waiting list: A and B confirmed; C (2 seats), D, E waiting, in that order."""
    ceremony = make_ceremony(capacity=2, waitlist=True)
    made = {}
    for name, companions in (("A", 0), ("B", 0), ("C", 1), ("D", 0), ("E", 0)):
        response = api_register(client, ceremony.id, full_name=f"Person {name}", companions=str(companions))
        assert response.status_code == 201, response.json
        made[name] = response.json
    return ceremony, made


def test_a_full_ceremony_with_a_list_takes_waiting_registrations(client, full):
    ceremony, made = full
    assert [made[n]["status"] for n in "ABCDE"] == ["confirmed"] * 2 + ["waitlisted"] * 3
    assert [made[n].get("position") for n in "CDE"] == [1, 2, 3]
    assert seats_taken(ceremony.id) == 2
    body = client.get(f"/api/v1/registrations/{made['D']['token']}").json
    assert body["status"] == "waitlisted" and body["position"] == 2 and body["ticket_code"] is None


def test_a_freed_seat_goes_to_the_first_in_line_who_fits(client, full):
    ceremony, made = full
    cancelled = client.post(f"/api/v1/registrations/{made['A']['token']}/cancel")
    assert cancelled.status_code == 200
    # One seat free: C needs two and keeps its place; D is confirmed.
    assert state(made["C"]["id"]).status == "waitlisted" and state(made["D"]["id"]).status == "confirmed"
    assert waitlist.position(db.session, state(made["C"]["id"])) == 1
    assert waitlist.position(db.session, state(made["E"]["id"])) == 2
    assert seats_taken(ceremony.id) == 2
    assert client.get(f"/api/v1/registrations/{made['D']['token']}").json["ticket_code"]


def test_a_freed_seat_nobody_fits_stays_free(client, make_ceremony):
    """One seat frees up and everyone waiting needs two: nobody is promoted (and
    nobody is told), the seat stays free for the next registration, the list
    keeps its order."""
    from award_service.mail.models import OutboxMessage

    ceremony = make_ceremony(capacity=2, waitlist=True)
    first = api_register(client, ceremony.id, full_name="Person A").json
    api_register(client, ceremony.id, full_name="Person B")
    pairs = [
        api_register(client, ceremony.id, full_name=f"Pair {n}", companions="1", email=f"pair{n}@example.kz").json
        for n in (1, 2)
    ]
    assert [p["status"] for p in pairs] == ["waitlisted", "waitlisted"]

    assert client.post(f"/api/v1/registrations/{first['token']}/cancel").status_code == 200
    assert [state(p["id"]).status for p in pairs] == ["waitlisted", "waitlisted"]
    assert [waitlist.position(db.session, state(p["id"])) for p in pairs] == [1, 2]
    assert seats_taken(ceremony.id) == 1
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "registration_promoted")
        )
        == 0
    )
    single = api_register(client, ceremony.id, full_name="Person F")
    assert single.status_code == 201 and single.json["status"] == "confirmed"  # the free seat was there to take


def test_raising_the_capacity_promotes_in_order(client, full, system, app):
    ceremony, made = full
    service.update_ceremony(
        db.session,
        system,
        db.session.get(Ceremony, ceremony.id),
        {**db.session.get(Ceremony, ceremony.id).snapshot(), "district": "zhezkazgan", "capacity": 6},
        tz=app.config["AWARD_TIMEZONE"],
    )
    assert [state(made[n]["id"]).status for n in "CDE"] == ["confirmed"] * 3
    assert seats_taken(ceremony.id) == 6  # A, B, C (2), D, E


def test_cancelling_a_waiting_registration_frees_no_seat(client, full):
    ceremony, made = full
    response = client.post(f"/api/v1/registrations/{made['D']['token']}/cancel")
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    assert seats_taken(ceremony.id) == 2
    assert waitlist.position(db.session, state(made["E"]["id"])) == 2


def test_no_list_no_waiting(client, make_ceremony):
    ceremony = make_ceremony(capacity=1)
    assert api_register(client, ceremony.id).status_code == 201
    refused = api_register(client, ceremony.id)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "ceremony_full"


def test_a_waiting_registration_has_no_ticket_yet(client, full, make_user, token_for):
    _, made = full
    waiting = state(made["C"]["id"])
    ticket = client.get(f"/api/v1/registrations/{made['C']['token']}/ticket.pdf")
    assert ticket.status_code == 409 and ticket.json["error"]["code"] == "waitlisted"
    door = client.post("/api/v1/checkin", json={"code": waiting.ticket_code}, headers=token_for(make_user("clerk")))
    assert door.status_code == 409 and door.json["error"]["code"] == "waitlisted"
    page = client.get(f"/r/{made['C']['token']}", query_string={"lang": "en"})
    assert "number 1 in line" in page.text


def test_organisers_reorder_the_list(en_client, login, make_user, full):
    ceremony, made = full
    login(make_user("organiser"))
    page = en_client.get(f"/staff/ceremonies/{ceremony.id}")
    assert "Waiting list" in page.text and "Person E" in page.text
    moved = en_client.post(f"/staff/ceremonies/{ceremony.id}/waitlist/{made['E']['id']}/up")
    assert moved.status_code == 302
    assert [r.full_name for r in waitlist.waiting(db.session, ceremony.id)] == ["Person C", "Person E", "Person D"]
    en_client.post(f"/api/v1/registrations/{made['A']['token']}/cancel")
    assert state(made["E"]["id"]).status == "confirmed"  # now ahead of D, and C still does not fit
    assert en_client.post(f"/staff/ceremonies/{ceremony.id}/waitlist/{made['A']['id']}/up").status_code == 302
    clerk_login = make_user("clerk")
    other = en_client.application.test_client()
    other.post("/staff/login", data={"email": clerk_login.email, "password": "correct-horse-battery"})
    assert other.post(f"/staff/ceremonies/{ceremony.id}/waitlist/{made['D']['id']}/up").status_code == 403


def test_storm_of_cancellations_and_registrations(require_postgres, live_server, make_ceremony):
    """10 seats, 10 waiting; then 10 cancellations and 10 new registrations at
    once: every freed seat goes to the waiting ten, the newcomers wait, and
    seats taken never exceed capacity."""
    _, base_url = live_server
    ceremony = make_ceremony(capacity=10, waitlist=True)
    with requests.Session() as http:
        first = [
            http.post(f"{base_url}/api/v1/ceremonies/{ceremony.id}/registrations", json=person(), timeout=60).json()
            for _ in range(20)
        ]
    assert [r["status"] for r in first] == ["confirmed"] * 10 + ["waitlisted"] * 10
    barrier = threading.Barrier(20)

    def act(i):
        with requests.Session() as http:
            barrier.wait(timeout=30)
            if i < 10:
                return http.post(f"{base_url}/api/v1/registrations/{first[i]['token']}/cancel", timeout=60)
            return http.post(f"{base_url}/api/v1/ceremonies/{ceremony.id}/registrations", json=person(), timeout=60)

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(act, range(20)))
    assert [r.status_code for r in responses] == [200] * 10 + [201] * 10
    assert all(r.json()["status"] == "waitlisted" for r in responses[10:])
    db.session.expire_all()
    assert [state(r["id"]).status for r in first[10:]] == ["confirmed"] * 10
    assert seats_taken(ceremony.id) == 10
    confirmed = db.session.query(Registration).filter_by(ceremony_id=ceremony.id, status="confirmed").all()
    assert sum(r.seats for r in confirmed) == 10
