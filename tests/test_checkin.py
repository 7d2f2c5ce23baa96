"""Door check-in: by ticket code (API and the door page), by name for people
without a ticket; once per ticket, also when two doors scan it at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from award_service import codes
from award_service.actor import Actor
from award_service.audit.models import AuditEvent
from award_service.ceremonies import registrations
from award_service.ceremonies.models import Registration
from award_service.extensions import db

from .conftest import registration_data


@pytest.fixture
def door(make_ceremony, make_user, token_for):
    """A ceremony with three registrations (0, 2 and 5 companions) and a clerk's token."""
    ceremony = make_ceremony(capacity=50)
    system = Actor.system("test")
    people = [
        registrations.register(
            db.session,
            system,
            ceremony.id,
            registration_data(full_name=name, phone=f"+7 701 000 00 0{i}", companions=str(companions)),
        )
        for i, (name, companions) in enumerate((("Жанболат Әбенов", 0), ("Гүлнар Қасымова", 2), ("Иван Петров", 5)))
    ]
    people = [db.session.get(Registration, p.id) for p in people]  # register() returns a plain record
    clerk = make_user("clerk")
    return {"ceremony": ceremony, "people": people, "headers": token_for(clerk), "clerk": clerk}


def checkin(client, headers, code, **extra):
    return client.post("/api/v1/checkin", json={"code": code, **extra}, headers=headers)


def audit_count(registration_id) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "registration.checkin", AuditEvent.object_id == str(registration_id))
    )


def test_every_registration_has_an_unguessable_ticket_code(client, door):
    codes_seen = {p.ticket_code for p in door["people"]}
    assert len(codes_seen) == 3 and all(codes.normalise(c) == c for c in codes_seen)
    body = client.get(f"/api/v1/registrations/{door['people'][0].token}").json
    assert body["ticket_code"] == door["people"][0].ticket_code and body["checked_in_at"] is None


def test_check_in_once_with_the_companions_who_came(client, door):
    person = door["people"][1]
    first = checkin(client, door["headers"], person.ticket_code, companions_arrived=1)
    assert first.status_code == 200, first.json
    assert first.json["already"] is False and first.json["registration"]["companions_arrived"] == 1
    again = checkin(client, door["headers"], codes.grouped(person.ticket_code).lower())
    assert again.status_code == 200
    assert again.json["already"] is True and again.json["checked_in_at"] == first.json["checked_in_at"]
    assert again.json["registration"]["companions_arrived"] == 1  # the second scan changed nothing
    assert audit_count(person.id) == 1


def test_companions_default_to_all_registered(client, door):
    response = checkin(client, door["headers"], door["people"][2].ticket_code)
    assert response.json["registration"]["companions_arrived"] == 5


@pytest.mark.parametrize("arrived", [3, -1, "two", True])
def test_more_companions_than_registered_is_refused(en_client, door, arrived):
    person = door["people"][1]
    response = checkin(en_client, door["headers"], person.ticket_code, companions_arrived=arrived)
    assert response.status_code == 422
    assert "Between 0 and 2" in response.json["error"]["fields"]["companions_arrived"]
    assert audit_count(person.id) == 0


@pytest.mark.parametrize("code", ["AAAAAAAAAAAAAAAA", "short", "", None, 12345, "x" * 300])
def test_unknown_or_malformed_codes(client, door, code):
    response = checkin(client, door["headers"], code)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_a_cancelled_ticket_admits_no_one(client, door):
    person = door["people"][0]
    registrations.cancel_registration(db.session, Actor.system("test"), person)
    response = checkin(client, door["headers"], person.ticket_code)
    assert response.status_code == 409 and response.json["error"]["code"] == "cancelled"
    assert client.get(f"/api/v1/registrations/{person.token}").json["ticket_code"] is None


def test_another_ceremonys_ticket_at_this_door(client, door, make_ceremony):
    other = make_ceremony(title_kk="Басқа шара", title_ru="Другое мероприятие")
    response = checkin(client, door["headers"], door["people"][0].ticket_code, ceremony=other.id)
    assert response.status_code == 409 and response.json["error"]["code"] == "wrong_ceremony"
    assert (
        checkin(client, door["headers"], door["people"][0].ticket_code, ceremony=door["ceremony"].id).status_code == 200
    )


@pytest.mark.parametrize("role, status", [("organiser", 200), ("admin", 200), ("nominator", 403), ("reviewer", 403)])
def test_who_checks_in(client, door, make_user, token_for, role, status):
    response = checkin(client, token_for(make_user(role)), door["people"][0].ticket_code)
    assert response.status_code == status
    assert checkin(client, {}, door["people"][0].ticket_code).status_code == 401


# --------------------------------------------------------------- the page


def test_the_door_page_scan_admit_and_second_scan(en_client, login, door):
    client = en_client
    login(door["clerk"])
    ceremony_id, person = door["ceremony"].id, door["people"][1]
    page = client.get(f"/staff/ceremonies/{ceremony_id}/checkin/", query_string={"lang": "en"})
    assert page.status_code == 200 and 'data-count="arrived">0<' in page.text
    assert 'data-count="registered">10<' in page.text
    found = client.post(f"/staff/ceremonies/{ceremony_id}/checkin/scan", data={"code": person.ticket_code})
    assert found.status_code == 200 and person.full_name in found.text
    admitted = client.post(
        f"/staff/ceremonies/{ceremony_id}/checkin/admit", data={"registration": person.id, "companions_arrived": "2"}
    )
    assert admitted.status_code == 302
    after = client.get(admitted.headers["Location"])
    assert "Admitted: Гүлнар Қасымова, 3 people." in after.text and 'data-count="arrived">3<' in after.text
    live = client.get(f"/staff/ceremonies/{ceremony_id}/checkin/counts")
    assert live.json == {"arrived": 3, "registered": 10, "capacity": 50}
    second = client.post(f"/staff/ceremonies/{ceremony_id}/checkin/scan", data={"code": person.ticket_code})
    assert second.status_code == 409 and "Already checked in at" in second.text
    twice = client.post(
        f"/staff/ceremonies/{ceremony_id}/checkin/admit", data={"registration": person.id, "companions_arrived": "0"}
    )
    assert twice.status_code == 409 and "Already checked in at" in twice.text
    db.session.expire_all()
    assert db.session.get(Registration, person.id).companions_arrived == 2


def test_the_door_page_finds_people_without_a_ticket(en_client, login, door):
    client = en_client
    login(door["clerk"])
    ceremony_id = door["ceremony"].id
    page = client.get(f"/staff/ceremonies/{ceremony_id}/checkin/", query_string={"q": "петров", "lang": "en"})
    assert page.status_code == 200 and "Иван Петров" in page.text and "Жанболат" not in page.text
    bad = client.post(
        f"/staff/ceremonies/{ceremony_id}/checkin/admit",
        data={"registration": door["people"][2].id, "companions_arrived": "9"},
    )
    assert bad.status_code == 422
    unknown = client.post(f"/staff/ceremonies/{ceremony_id}/checkin/scan", data={"code": "ZZZZ-ZZZZ"})
    assert unknown.status_code == 404 and "No ticket has this code" in unknown.text


# ------------------------------------------------------- two doors at once


def test_two_doors_scan_one_ticket_at_once(require_postgres, live_server, make_ceremony, make_user, token_for):
    _, base_url = live_server
    ceremony = make_ceremony()
    person = registrations.register(db.session, Actor.system("test"), ceremony.id, registration_data(companions="1"))
    headers = [token_for(make_user("clerk")) for _ in range(2)]
    barrier = threading.Barrier(8)

    def scan(i):
        with requests.Session() as http:
            barrier.wait(timeout=30)
            return http.post(
                f"{base_url}/api/v1/checkin", json={"code": person.ticket_code}, headers=headers[i % 2], timeout=60
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(scan, range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert sorted(r.json()["already"] for r in responses) == [False] + [True] * 7
    assert len({r.json()["checked_in_at"] for r in responses}) == 1
    db.session.expire_all()
    assert audit_count(person.id) == 1


# ---------------------------------------------------------------- tickets


def test_the_ticket_pdf_and_the_manage_page_carry_the_code(app, client, door):
    import io

    import pypdfium2
    import zxingcpp
    from pypdf import PdfReader

    person = door["people"][1]
    for url in (f"/r/{person.token}/ticket.pdf", f"/api/v1/registrations/{person.token}/ticket.pdf"):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        text = " ".join(PdfReader(io.BytesIO(response.data)).pages[0].extract_text().split())
        assert person.full_name in text and codes.grouped(person.ticket_code) in text
        assert door["ceremony"].title_kk in text
        document = pypdfium2.PdfDocument(response.data)
        try:
            image = document[0].render(scale=3).to_pil()
        finally:
            document.close()
        assert [b.text for b in zxingcpp.read_barcodes(image)] == [person.ticket_code]
    page = client.get(f"/r/{person.token}")
    assert "<svg" in page.text and codes.grouped(person.ticket_code) in page.text


def test_a_cancelled_registration_has_no_ticket(client, door):
    person = door["people"][0]
    registrations.cancel_registration(db.session, Actor.system("test"), person)
    api = client.get(f"/api/v1/registrations/{person.token}/ticket.pdf")
    assert api.status_code == 409 and api.json["error"]["code"] == "cancelled"
    assert client.get(f"/r/{person.token}/ticket.pdf").status_code == 409
    assert "<svg" not in client.get(f"/r/{person.token}").text
    assert client.get("/api/v1/registrations/no-such-token/ticket.pdf").status_code == 404
